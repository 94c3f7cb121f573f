package dev.sluice.chaos;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The Sluice deployment under test, over its HTTP API only (black box). */
final class Target {
    private final URI base;
    private final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(2))
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .version(HttpClient.Version.HTTP_1_1)
            .build();

    Target(URI base) {
        this.base = base;
    }

    URI base() {
        return base;
    }

    /** One check of cost 1; never throws: no answer is status -1. */
    Sample check(String mode, String policy, String key) {
        HttpRequest request = HttpRequest.newBuilder(base.resolve("/v1/check"))
                .timeout(Duration.ofSeconds(3))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"policy\":\"" + policy + "\",\"key\":\"" + key + "\"}"))
                .build();
        long start = System.nanoTime();
        try {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            return new Sample(
                    start,
                    System.nanoTime(),
                    mode,
                    key,
                    r.statusCode(),
                    r.body().contains("\"degraded\":true"));
        } catch (IOException e) {
            return new Sample(start, System.nanoTime(), mode, key, -1, false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Sample(start, System.nanoTime(), mode, key, -1, false);
        }
    }

    /** The mode of the samples of {@link #ping}. */
    static final String PING = "ping";

    /**
     * The no-op {@code POST /v1/ping}, with a check's body, through the same path as the checks: no
     * store, no decision — how long the HTTP path and the host alone take at this moment.
     */
    Sample ping() {
        HttpRequest request = HttpRequest.newBuilder(base.resolve("/v1/ping"))
                .timeout(Duration.ofSeconds(3))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"policy\":\"ping\",\"key\":\"ping\"}"))
                .build();
        long start = System.nanoTime();
        try {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            return new Sample(start, System.nanoTime(), PING, "", r.statusCode(), false);
        } catch (IOException e) {
            return new Sample(start, System.nanoTime(), PING, "", -1, false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Sample(start, System.nanoTime(), PING, "", -1, false);
        }
    }

    /**
     * The look of {@code GET /v1/limits/{policy}/{key}} (writes nothing): its body, also when a
     * fail-closed policy answers it with 503 (then {@code degraded} is true).
     */
    JsonObject look(String policy, String key) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(base.resolve("/v1/limits/" + policy + "/" + key))
                        .timeout(Duration.ofSeconds(3))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200 && r.statusCode() != 503) {
            throw new IOException(
                    "GET /v1/limits/" + policy + "/" + key + " answered " + r.statusCode() + ": " + r.body());
        }
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    /** A whole-number detail of {@code /health} (e.g. liveNodes), or -1 when absent. */
    long healthDetail(String name) throws IOException, InterruptedException {
        String body = http.send(
                        HttpRequest.newBuilder(base.resolve("/health"))
                                .timeout(Duration.ofSeconds(3))
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        Matcher m = Pattern.compile("\"" + name + "\":(-?\\d+)").matcher(body);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
}
