package dev.sluice.chaos;

import java.util.List;

/** A named fault and what it stands for. */
record Scenario(String name, String description, Fault fault) {

    /** Every scenario, in the order they run; {@code none} is the baseline without a fault. */
    static List<Scenario> all() {
        return List.of(
                new Scenario("none", "no fault: the baseline at the same load", null),
                new Scenario("latency-50ms", "50 ms ± 10 ms added to every answer", Fault.latency(50, 10)),
                new Scenario("latency-500ms", "500 ms ± 100 ms added to every answer", Fault.latency(500, 100)),
                new Scenario("blackhole", "connections stay open, nothing gets through (timeout 0)", Fault.blackhole()),
                new Scenario("reset-peer", "every connection reset (TCP RST) at once", Fault.resetPeer()),
                new Scenario("down", "the proxies disabled: connections closed, new ones refused", Fault.down()),
                new Scenario("bandwidth", "answers trickle at 1 KB/s", Fault.bandwidth(1)),
                new Scenario("flapping", "down and up again every second", Fault.flapping(1000)),
                new Scenario(
                        "master-killed",
                        "the master serving the subjects killed (SIGKILL); its replica is promoted",
                        Fault.masterKilled()));
    }
}
