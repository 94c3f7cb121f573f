package dev.sluice.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where {@code redis-server} and {@code redis-cli} are: {@code REDIS_BIN_DIR}, else the PATH. */
final class RedisBinaries {
    private RedisBinaries() {}

    static String server() {
        return find("redis-server");
    }

    static String cli() {
        return find("redis-cli");
    }

    private static String find(String name) {
        String dir = System.getenv("REDIS_BIN_DIR");
        if (dir != null && !dir.isBlank()) {
            return Path.of(dir, name).toString();
        }
        for (String entry : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path candidate = Path.of(entry, name);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new IllegalStateException(name + " not found on PATH: install it (apt-get install -y redis-server"
                + " redis-tools) or run bin/test, which installs it");
    }
}
