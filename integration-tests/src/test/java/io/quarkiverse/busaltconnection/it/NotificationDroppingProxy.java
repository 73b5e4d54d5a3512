package io.quarkiverse.busaltconnection.it;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy in front of PostgreSQL that can make the connections going through it deaf: it keeps forwarding
 * everything but the server's NotificationResponse messages, as a connection whose LISTEN was lost would behave.
 * The clients must not ask for TLS (ssl-mode disable): the proxy reads the server's messages.
 */
final class NotificationDroppingProxy implements AutoCloseable {

    private static final int NOTIFICATION_RESPONSE = 'A';

    private final ServerSocket server;
    private final String targetHost;
    private final int targetPort;
    private final List<Pipe> pipes = new CopyOnWriteArrayList<>();

    NotificationDroppingProxy(String targetHost, int targetPort) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        Thread acceptor = new Thread(this::accept, "proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** The connections open now hear nothing from here on; later ones hear normally. */
    int deafenOpenConnections() {
        int deafened = 0;
        for (Pipe pipe : pipes) {
            if (!pipe.client.isClosed()) {
                pipe.deaf = true;
                deafened++;
            }
        }
        return deafened;
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(targetHost, targetPort);
                Pipe pipe = new Pipe(client, upstream);
                pipes.add(pipe);
                start("proxy-up", pipe, () -> client.getInputStream().transferTo(upstream.getOutputStream()));
                start("proxy-down", pipe, () -> filter(upstream.getInputStream(), client.getOutputStream(), pipe));
            } catch (IOException e) {
                // Closed, or the server refused: the client sees its connection end.
            }
        }
    }

    /** Forwards the server's messages one by one (type byte, length, body), dropping notifications once deaf. */
    private static void filter(InputStream in, OutputStream out, Pipe pipe) throws IOException {
        DataInputStream messages = new DataInputStream(in);
        while (true) {
            int type = messages.read();
            if (type < 0) {
                return;
            }
            int length = messages.readInt();
            byte[] body = new byte[length - 4];
            messages.readFully(body);
            if (type == NOTIFICATION_RESPONSE && pipe.deaf) {
                continue;
            }
            out.write(type);
            out.write(new byte[] { (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8),
                    (byte) length });
            out.write(body);
            if (messages.available() == 0) {
                out.flush();
            }
        }
    }

    /** When either direction ends, both sockets close, so the other direction ends too. */
    private static void start(String name, Pipe pipe, IoWork work) {
        Thread thread = new Thread(() -> {
            try {
                work.run();
            } catch (IOException ended) {
                // One side closed the connection.
            } finally {
                pipe.close();
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Pipe pipe : pipes) {
            pipe.close();
        }
    }

    private interface IoWork {
        void run() throws IOException;
    }

    private static final class Pipe {
        final Socket client;
        final Socket upstream;
        volatile boolean deaf;

        Pipe(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void close() {
            try {
                client.close();
                upstream.close();
            } catch (IOException e) {
                // Closing is all that is left to do.
            }
        }
    }
}
