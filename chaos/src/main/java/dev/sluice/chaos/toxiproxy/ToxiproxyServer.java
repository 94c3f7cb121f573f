package dev.sluice.chaos.toxiproxy;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * A Toxiproxy-compatible server in the JVM: the REST API of Toxiproxy 2.x that the chaos scenarios
 * and {@code eu.rekawek.toxiproxy:toxiproxy-java} use, over real TCP proxies ({@link ToxicProxy}).
 * It stands in where no real Toxiproxy runs ({@code TOXIPROXY_URL} unset); the scenarios run
 * unchanged against a real one.
 *
 * <p>Endpoints: {@code GET /version}; {@code GET|POST /proxies}; {@code GET|POST|DELETE
 * /proxies/{proxy}}; {@code GET|POST /proxies/{proxy}/toxics}; {@code GET|POST|DELETE
 * /proxies/{proxy}/toxics/{toxic}}; {@code POST /reset} (every proxy enabled, every toxic removed).
 * Errors answer {@code {"error": "...", "status": n}} with that status, as Toxiproxy does.
 *
 * <p>Run on its own: {@code java -cp chaos.jar dev.sluice.chaos.toxiproxy.ToxiproxyServer [port]}
 * (default 8474, on 127.0.0.1).
 */
public final class ToxiproxyServer implements AutoCloseable {
    private static final Gson GSON = new Gson();

    private final HttpServer http;
    private final Map<String, ToxicProxy> proxies = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "toxiproxy-timers");
        t.setDaemon(true);
        return t;
    });

    private ToxiproxyServer(HttpServer http) {
        this.http = http;
    }

    /** Starts the API on 127.0.0.1:{@code port} (0: any free port). */
    public static ToxiproxyServer start(int port) {
        try {
            HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
            ToxiproxyServer server = new ToxiproxyServer(http);
            http.createContext("/", server::handle);
            http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            http.start();
            return server;
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on 127.0.0.1:" + port, e);
        }
    }

    public static void main(String[] args) throws InterruptedException {
        ToxiproxyServer server = start(args.length > 0 ? Integer.parseInt(args[0]) : 8474);
        System.out.println("Toxiproxy-compatible API on " + server.url());
        Thread.currentThread().join();
    }

    public int port() {
        return http.getAddress().getPort();
    }

    public String url() {
        return "http://127.0.0.1:" + port();
    }

    @Override
    public void close() {
        http.stop(0);
        proxies.values().forEach(ToxicProxy::stop);
        proxies.clear();
        timers.shutdownNow();
    }

    private void handle(HttpExchange ex) throws IOException {
        try {
            String method = ex.getRequestMethod();
            String[] parts =
                    ex.getRequestURI().getPath().replaceAll("^/+|/+$", "").split("/");
            JsonObject body = body(ex);
            Object answer = route(method, parts, body);
            if (answer == null) {
                ex.sendResponseHeaders(204, -1);
            } else if (answer instanceof String text) {
                send(ex, 200, "text/plain", text);
            } else {
                int status = answer instanceof Created c ? 201 : 200;
                Object json = answer instanceof Created c ? c.json() : answer;
                send(ex, status, "application/json", GSON.toJson(json));
            }
        } catch (ApiException e) {
            if (e.status >= 500) {
                System.err.println("toxiproxy: " + ex.getRequestMethod() + " " + ex.getRequestURI() + " failed: "
                        + e.getMessage());
            }
            Map<String, Object> error = new LinkedHashMap<>();
            error.put("error", e.getMessage());
            error.put("status", e.status);
            send(ex, e.status, "application/json", GSON.toJson(error));
        } catch (RuntimeException e) {
            System.err.println("toxiproxy: " + ex.getRequestMethod() + " " + ex.getRequestURI() + " failed: " + e);
            e.printStackTrace();
            send(ex, 500, "application/json", GSON.toJson(Map.of("error", String.valueOf(e), "status", 500)));
        } finally {
            ex.close();
        }
    }

    private record Created(Object json) {}

    private Object route(String method, String[] p, JsonObject body) {
        boolean get = "GET".equals(method);
        boolean post = "POST".equals(method) || "PATCH".equals(method);
        boolean delete = "DELETE".equals(method);
        if (p.length == 1 && "version".equals(p[0]) && get) {
            return "2.12.0";
        }
        if (p.length == 1 && "reset".equals(p[0]) && post) {
            for (ToxicProxy proxy : proxies.values()) {
                proxy.removeAllToxics();
                proxy.update(null, null, true);
            }
            return null;
        }
        if (p.length >= 1 && "proxies".equals(p[0])) {
            if (p.length == 1 && get) {
                Map<String, Object> all = new LinkedHashMap<>();
                proxies.values().forEach(x -> all.put(x.name, x.json()));
                return all;
            }
            if (p.length == 1 && post) {
                return new Created(create(body).json());
            }
            ToxicProxy proxy = proxies.get(p.length > 1 ? p[1] : "");
            if (proxy == null) {
                throw new ApiException(404, "proxy not found");
            }
            if (p.length == 2) {
                if (get) {
                    return proxy.json();
                }
                if (post) {
                    proxy.update(string(body, "listen"), string(body, "upstream"), bool(body, "enabled"));
                    return proxy.json();
                }
                if (delete) {
                    proxy.stop();
                    proxies.remove(proxy.name);
                    return null;
                }
            }
            if (p.length >= 3 && "toxics".equals(p[2])) {
                if (p.length == 3 && get) {
                    List<Object> list = new ArrayList<>();
                    proxy.toxics().forEach(t -> list.add(t.json()));
                    return list;
                }
                if (p.length == 3 && post) {
                    String type = string(body, "type");
                    String stream = string(body, "stream") == null ? "downstream" : string(body, "stream");
                    String name = string(body, "name") == null ? type + "_" + stream : string(body, "name");
                    Double toxicity = number(body, "toxicity");
                    return proxy.addToxic(
                                    new Toxic(name, type, stream, toxicity == null ? 1.0 : toxicity, attributes(body)))
                            .json();
                }
                if (p.length == 4 && get) {
                    return proxy.toxic(p[3]).json();
                }
                if (p.length == 4 && post) {
                    return proxy.updateToxic(p[3], attributes(body), number(body, "toxicity"))
                            .json();
                }
                if (p.length == 4 && delete) {
                    proxy.removeToxic(p[3]);
                    return null;
                }
            }
        }
        throw new ApiException(404, "not found: " + method + " /" + String.join("/", p));
    }

    private ToxicProxy create(JsonObject body) {
        ToxicProxy proxy =
                new ToxicProxy(string(body, "name"), string(body, "listen"), string(body, "upstream"), timers);
        if (proxies.putIfAbsent(proxy.name, proxy) != null) {
            throw new ApiException(409, "proxy already exists");
        }
        try {
            if (!Boolean.FALSE.equals(bool(body, "enabled"))) {
                proxy.start();
            }
        } catch (ApiException e) {
            proxies.remove(proxy.name);
            throw e;
        }
        return proxy;
    }

    private static JsonObject body(HttpExchange ex) throws IOException {
        byte[] bytes = ex.getRequestBody().readAllBytes();
        if (bytes.length == 0) {
            return new JsonObject();
        }
        try {
            JsonElement e = JsonParser.parseString(new String(bytes, StandardCharsets.UTF_8));
            if (!e.isJsonObject()) {
                throw new ApiException(400, "bad request: body must be a JSON object");
            }
            return e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new ApiException(400, "bad request: " + e.getMessage());
        }
    }

    private static String string(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsString() : null;
    }

    private static Boolean bool(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsBoolean() : null;
    }

    private static Double number(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsDouble() : null;
    }

    private static Map<String, Long> attributes(JsonObject body) {
        Map<String, Long> attributes = new LinkedHashMap<>();
        if (body.has("attributes") && body.get("attributes").isJsonObject()) {
            for (Map.Entry<String, JsonElement> e :
                    body.getAsJsonObject("attributes").entrySet()) {
                try {
                    attributes.put(e.getKey(), Math.round(e.getValue().getAsDouble()));
                } catch (RuntimeException bad) {
                    throw new ApiException(400, "bad request: attribute " + e.getKey() + " must be a number");
                }
            }
        }
        return attributes;
    }

    private static void send(HttpExchange ex, int status, String type, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
