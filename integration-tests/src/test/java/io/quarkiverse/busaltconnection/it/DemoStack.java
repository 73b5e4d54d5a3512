package io.quarkiverse.busaltconnection.it;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs a {@link LocalPoolerStack} until the process is stopped, for the demo application in dev mode
 * (scripts/run-demo.sh). Writes the system properties that point the application at it into the file named by the
 * first argument once both servers accept connections.
 */
public final class DemoStack {

    private DemoStack() {
    }

    public static void main(String[] args) throws Exception {
        LocalPoolerStack stack = LocalPoolerStack.start();
        Runtime.getRuntime().addShutdownHook(new Thread(stack::close));
        Files.writeString(Path.of(args[0]), String.join(" ",
                "-Dquarkus.datasource.jdbc.url=" + stack.pgbouncerJdbcUrl(),
                "-Dquarkus.datasource.username=" + LocalPoolerStack.USER,
                "-Dquarkus.datasource.password=" + LocalPoolerStack.PASSWORD,
                "-Dquarkus.imdispatcher.db-host=127.0.0.1",
                "-Dquarkus.imdispatcher.db-port=" + stack.postgresPort()));
        System.out.println("PostgreSQL on 127.0.0.1:" + stack.postgresPort() + ", PgBouncer (transaction mode) on"
                + " 127.0.0.1:" + stack.pgbouncerPort() + ", user/password " + LocalPoolerStack.USER + "/"
                + LocalPoolerStack.PASSWORD + ", database " + LocalPoolerStack.DATABASE);
        Thread.currentThread().join();
    }
}
