import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts Amazon's DynamoDB Local bound to 127.0.0.1 only. Its command line has no host option, and its
 * Jetty server listens on every interface; the jar's embedded API (ServerRunner.createServerFromCommandLineArgs,
 * the documented way to run it in-process) builds the server without starting it, so the connector's host
 * is set here first. Takes the jar's own command-line options.
 */
public class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Server jetty = null;
    for (Field field : DynamoDBProxyServer.class.getDeclaredFields()) {
      if (Server.class.isAssignableFrom(field.getType())) {
        field.setAccessible(true);
        jetty = (Server) field.get(proxy);
      }
    }
    if (jetty == null || jetty.getConnectors().length == 0) {
      throw new IllegalStateException("DynamoDB Local's server has no connector to bind to loopback; refusing to listen on every interface");
    }
    for (Connector connector : jetty.getConnectors()) {
      if (!(connector instanceof ServerConnector)) throw new IllegalStateException("unexpected connector " + connector.getClass());
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    proxy.start();
    System.out.println("DynamoDB Local listening on 127.0.0.1");
    proxy.join();
  }
}
