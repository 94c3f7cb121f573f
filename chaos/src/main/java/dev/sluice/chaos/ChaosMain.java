package dev.sluice.chaos;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The chaos scenarios as a command an SRE points at a running deployment:
 *
 * <pre>
 * bin/chaos --target http://sluice.internal:8080 --toxiproxy http://toxiproxy:8474 \
 *     [--proxies redis] [--scenarios latency-50ms,down] [--rate 150] [--fault-seconds 4] \
 *     [--budget-ms 10] [--margin-ms 40] [--recover-seconds 10] [--out chaos-report] \
 *     [--kill-master-cmd 'CMD'] [--restore-cmd 'CMD'] [--policy-open P] [--policy-closed P] [--policy-local P]
 * </pre>
 *
 * The deployment needs the three policies (examples/chaos-policies.yml); its Redis must be reached
 * through the Toxiproxy proxies named {@code --proxies*}. {@code --kill-master-cmd} runs with the
 * environment variable {@code SLOT} set to the hash slot whose master to kill. Prints the report and
 * exits 0 when every row passed, 1 when one failed, 2 on bad arguments.
 */
public final class ChaosMain {
    private ChaosMain() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                usage("unexpected argument " + args[i]);
            }
            a.put(args[i].substring(2), args[++i]);
        }
        if (!a.containsKey("target")) {
            usage("--target is required");
        }
        String toxiproxy =
                a.getOrDefault("toxiproxy", System.getenv().getOrDefault("TOXIPROXY_URL", "http://127.0.0.1:8474"));
        Map<String, String> policies = new LinkedHashMap<>();
        for (String mode : ChaosRun.MODES) {
            policies.put(mode, a.getOrDefault("policy-" + mode, "chaos-" + mode));
        }
        Fault.MasterKiller killer = null;
        if (a.containsKey("kill-master-cmd")) {
            String kill = a.get("kill-master-cmd");
            String restore = a.getOrDefault("restore-cmd", "true");
            killer = new Fault.MasterKiller() {
                @Override
                public void kill(int slot) throws Exception {
                    shell(kill, slot);
                }

                @Override
                public void restore() throws Exception {
                    shell(restore, -1);
                }
            };
        }
        List<String> scenarios = a.containsKey("scenarios")
                ? new ArrayList<>(Arrays.asList(a.get("scenarios").split(",")))
                : List.of();
        ChaosRun.Settings settings = new ChaosRun.Settings(
                URI.create(a.get("target")),
                URI.create(toxiproxy),
                a.getOrDefault("proxies", ""),
                policies,
                Integer.parseInt(a.getOrDefault("rate", "150")),
                Duration.ofSeconds(Long.parseLong(a.getOrDefault("fault-seconds", "4"))),
                Duration.ofSeconds(Long.parseLong(a.getOrDefault("recover-seconds", "10"))),
                Long.parseLong(a.getOrDefault("budget-ms", "10")),
                Long.parseLong(a.getOrDefault("margin-ms", "40")),
                killer,
                scenarios);
        Report report = new ChaosRun(settings, line -> System.err.println(line)).run();
        Path out = Path.of(a.getOrDefault("out", "chaos-report"));
        report.write(out);
        System.out.println(report.markdown());
        System.out.println("Written: " + out.resolve("chaos-report.md") + ", " + out.resolve("chaos-report.json"));
        System.exit(report.passed() ? 0 : 1);
    }

    private static void shell(String command, int slot) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", command).inheritIO();
        if (slot >= 0) {
            pb.environment().put("SLOT", Integer.toString(slot));
        }
        int exit = pb.start().waitFor();
        if (exit != 0) {
            throw new IllegalStateException("`" + command + "` exited with " + exit);
        }
    }

    private static void usage(String problem) {
        System.err.println(problem);
        System.err.println("usage: bin/chaos --target URL [--toxiproxy URL] [--proxies PREFIX] [--scenarios a,b]"
                + " [--rate N] [--fault-seconds N] [--budget-ms N] [--margin-ms N] [--recover-seconds N] [--out DIR]"
                + " [--kill-master-cmd CMD] [--restore-cmd CMD] [--policy-open|--policy-closed|--policy-local NAME]");
        System.exit(2);
    }
}
