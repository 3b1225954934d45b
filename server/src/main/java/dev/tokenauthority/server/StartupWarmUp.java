package dev.tokenauthority.server;

import dev.tokenauthority.server.signing.Ed25519Provider;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.jsonwebtoken.Jwts;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;

/**
 * Loads and initialises, on a daemon thread, what every start needs after the store is open:
 * BouncyCastle's Ed25519 tables and the JCA path to them, jjwt's parser, Netty's native epoll
 * transport and buffer pool, and gRPC's server builder. Started before the command line is
 * parsed, this work runs on the second core while the main thread sets up logging, parses
 * settings and opens the store, instead of after them. Nothing it makes is kept.
 */
final class StartupWarmUp {
  private StartupWarmUp() {}

  static void inBackground() {
    Thread t = new Thread(StartupWarmUp::run, "start-up-warm-up");
    t.setDaemon(true);
    t.start();
  }

  private static void run() {
    try {
      Ed25519Provider provider = new Ed25519Provider();
      KeyPair pair = KeyPairGenerator.getInstance("Ed25519", provider).generateKeyPair();
      Signature signature = Signature.getInstance("Ed25519", provider);
      signature.initSign(pair.getPrivate());
      signature.update((byte) 0);
      signature.sign();
      Jwts.parser().build();
      Epoll.isAvailable();
      PooledByteBufAllocator.DEFAULT.directBuffer(1).release();
      NettyServerBuilder.forAddress(new InetSocketAddress(0));
    } catch (Exception | LinkageError e) {
      // Only a head start: the real start-up meets and reports any problem.
    }
  }
}
