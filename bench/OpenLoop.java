import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * An open-loop load generator for latency at a fixed offered rate (wrk measures at saturation,
 * where p99 is mostly queueing): sends POST {@code url} with {"policy": POLICY, "key": "user-<n>"}
 * for a random n of {@code keys}, {@code rate} times a second for {@code seconds}, each at its
 * scheduled time whatever the answers before it did, and measures each latency from that scheduled
 * time (no coordinated omission), after {@code warmup} seconds (default 2) sent the same way but not
 * counted: this JVM's own start (class loading, compilation, connections) would otherwise be the
 * tail. Prints one line: {@code sent ok non2xx p50 p99 p999} (ms), of the counted requests.
 *
 * <pre>java bench/OpenLoop.java http://127.0.0.1:8080/v1/check regional 100 1000 10 [warmup]</pre>
 */
public class OpenLoop {
    public static void main(String[] args) throws Exception {
        URI url = URI.create(args[0]);
        String policy = args[1];
        int keys = Integer.parseInt(args[2]);
        int rate = Integer.parseInt(args[3]);
        int seconds = Integer.parseInt(args[4]);
        int warmup = args.length > 5 ? Integer.parseInt(args[5]) : 2;
        HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2))
                .build();
        int skipped = rate * warmup;
        int total = rate * seconds;
        long[] latencies = new long[total];
        AtomicInteger done = new AtomicInteger();
        AtomicLong ok = new AtomicLong();
        AtomicLong non2xx = new AtomicLong();
        long interval = 1_000_000_000L / rate;
        long start = System.nanoTime() + 50_000_000L;
        for (int i = -skipped; i < total; i++) {
            long due = start + (i + skipped) * interval;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            String body = "{\"policy\":\"" + policy + "\",\"key\":\"user-"
                    + (1 + ThreadLocalRandom.current().nextInt(keys)) + "\"}";
            HttpRequest request = HttpRequest.newBuilder(url)
                    .header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build();
            int at = i;
            if (at < 0) {
                http.sendAsync(request, HttpResponse.BodyHandlers.discarding());
                continue;
            }
            http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((r, x) -> {
                latencies[at] = System.nanoTime() - due;
                if (x == null && r.statusCode() / 100 == 2) {
                    ok.incrementAndGet();
                } else {
                    non2xx.incrementAndGet();
                }
                done.incrementAndGet();
            });
        }
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (done.get() < total && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        int n = done.get();
        long[] sorted = Arrays.copyOf(latencies, total);
        Arrays.sort(sorted);
        // unanswered requests (still 0) sort first; count them as the slowest instead
        long[] answered = Arrays.copyOfRange(sorted, total - n, total);
        System.out.printf(
                "%d %d %d %.3f %.3f %.3f%n",
                total,
                ok.get(),
                non2xx.get() + (total - n),
                pct(answered, 0.50, total),
                pct(answered, 0.99, total),
                pct(answered, 0.999, total));
        System.exit(0);
    }

    /** The q-quantile in ms over {@code total} requests, the unanswered counted as infinitely slow. */
    static double pct(long[] answered, double q, int total) {
        int rank = (int) Math.ceil(q * total) - 1;
        if (rank >= answered.length) {
            return Double.POSITIVE_INFINITY;
        }
        return answered[rank] / 1e6;
    }
}
