package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.ServiceNode;
import dev.sluice.plans.KeyDirectory;
import dev.sluice.testkit.Haproxy;
import dev.sluice.testkit.RedisServersExtension;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The README's flow, end to end over HTTP, as a user runs it: two Sluice nodes behind a real
 * haproxy, sharing a Redis Cluster and a PostgreSQL database. A plan and a key are made through the
 * admin API; the daily quota is spent under the per-minute rate; the next checks get 429 naming
 * both policies; the denials appear in the violation record with the client's address; a reset
 * gives the day back. Every request goes through the load balancer, so it lands on either node.
 */
@ExtendWith(RedisServersExtension.class)
class PlanFlowIT {
    private static final String TOKEN = "admin-" + UUID.randomUUID();

    @Test
    void createAPlanAndAKeySpendTheDailyQuotaUnderTheRateAndSeeTheDenials() throws Exception {
        Map<String, Object> p = PlansDatabase.nodeProperties(PlansDatabase.create("flow_it"), TOKEN);
        List<ServiceNode> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                nodes.add(ServiceNode.start(p));
            }
            try (Haproxy lb =
                    Haproxy.start(nodes.stream().map(ServiceNode::port).toList())) {
                flow(lb.url(), nodes);
            }
        } finally {
            nodes.forEach(ServiceNode::close);
        }
    }

    private static void flow(String url, List<ServiceNode> nodes) {
        HttpResponse<String> plan = admin(
                url,
                "POST",
                "/admin/plans",
                "{\"name\":\"trial\",\"limit\":600,\"period\":\"1m\",\"dailyQuota\":5," + "\"monthlyQuota\":1000}");
        assertThat(plan.statusCode()).as(plan.body()).isEqualTo(201);
        HttpResponse<String> issued = admin(url, "POST", "/admin/keys", "{\"plan\":\"trial\",\"label\":\"acme\"}");
        assertThat(issued.statusCode()).as(issued.body()).isEqualTo(201);
        Matcher m = Pattern.compile("\"key\":\"(sk_([^.\"]+)\\.[^\"]+)\"").matcher(issued.body());
        assertThat(m.find()).as(issued.body()).isTrue();
        String key = m.group(1);
        String id = m.group(2);
        // the README waits a second: every node's directory picks the key up within its poll
        Instant issuedAt = Instant.now();
        for (ServiceNode n : nodes) {
            KeyDirectory directory = n.context().getBean(KeyDirectory.class);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> directory.resolve(key, Instant.now()).valid());
        }
        System.out.printf(
                "PlanFlowIT: the new key resolved on both nodes %d ms after it was issued%n",
                Duration.between(issuedAt, Instant.now()).toMillis());

        String body = "{\"request\":{\"remote-address\":\"203.0.113.7\"}}";
        List<Integer> statuses = new ArrayList<>();
        HttpResponse<String> last = null;
        for (int i = 0; i < 7; i++) {
            last = ServiceNode.send(HttpRequest.newBuilder(URI.create(url + "/v1/check"))
                    .header("X-Api-Key", key)
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build());
            statuses.add(last.statusCode());
        }
        assertThat(statuses)
                .as("the day's 5, then denied while the minute's rate (600) is far from spent")
                .containsExactly(200, 200, 200, 200, 200, 429, 429);
        assertThat(last.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(last.headers().firstValue("RateLimit-Policy").orElseThrow())
                .contains("\"rate\";q=600;w=60", "\"daily\";q=5;w=86400", "\"monthly\";q=1000;w=");
        // the month counted the day's 5 and nothing of the denied: found black-box, it said 996 (a
        // denied plan check's other limits were reported as if their units had been taken and given back)
        assertThat(last.headers().firstValue("RateLimit").orElseThrow())
                .contains("\"daily\";r=0;", "\"monthly\";r=995;");
        assertThat(Long.parseLong(last.headers().firstValue("Retry-After").orElseThrow()))
                .isPositive();
        assertThat(last.body()).contains("\"violated-policies\":[\"daily\"]", "\"policy\":\"rate\"");
        long decidedBy = nodes.stream().filter(n -> decisions(n) > 0).count();
        assertThat(decidedBy)
                .as("the load balancer spread the checks over both nodes")
                .isEqualTo(2);

        // the denials in the violation record, with the client's address; usage per minute
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            HttpResponse<String> usage = admin(url, "GET", "/admin/usage?key=" + id, null);
            assertThat(usage.statusCode()).as(usage.body()).isEqualTo(200);
            assertThat(usage.body()).contains("\"admitted\":5", "\"denied\":2");
        });
        HttpResponse<String> violations = admin(url, "GET", "/admin/violations?key=" + id, null);
        assertThat(violations.statusCode()).isEqualTo(200);
        assertThat(Pattern.compile("\"policy\":\"daily\"")
                        .matcher(violations.body())
                        .results()
                        .count())
                .isEqualTo(2);
        assertThat(violations.body())
                .contains("\"key\":\"" + id + "\"", "\"plan\":\"trial\"", "\"clientAddress\":\"203.0.113.7\"");

        // the operator gives the day back
        HttpResponse<String> reset = admin(url, "POST", "/admin/keys/" + id + "/reset", "{\"rate\":false}");
        assertThat(reset.statusCode()).as(reset.body()).isEqualTo(200);
        assertThat(reset.body()).contains("\"usedBefore\":5");
        HttpResponse<String> again = ServiceNode.send(HttpRequest.newBuilder(URI.create(url + "/v1/check"))
                .header("X-Api-Key", key)
                .POST(HttpRequest.BodyPublishers.noBody())
                .build());
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    }

    private static double decisions(ServiceNode n) {
        return n.context().getBean(MeterRegistry.class).find("sluice.decisions").counters().stream()
                .mapToDouble(Counter::count)
                .sum();
    }

    private static HttpResponse<String> admin(String url, String method, String path, String body) {
        return PlansDatabase.admin(url, TOKEN, method, path, body);
    }
}
