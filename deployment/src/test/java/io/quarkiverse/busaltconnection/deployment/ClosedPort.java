package io.quarkiverse.busaltconnection.deployment;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** A loopback port nothing listens on: bound, then released. */
public final class ClosedPort {

    private ClosedPort() {
    }

    public static int find() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress("127.0.0.1", 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
