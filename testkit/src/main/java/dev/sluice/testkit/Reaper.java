package dev.sluice.testkit;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Stops every process still running when the JVM exits, so a failed or killed test run leaves none behind. */
final class Reaper {
    private static final Set<ManagedProcess> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(ManagedProcess::close), "sluice-reaper"));
    }

    private Reaper() {}

    static void register(ManagedProcess process) {
        RUNNING.add(process);
    }

    static void unregister(ManagedProcess process) {
        RUNNING.remove(process);
    }
}
