import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import dev.sluice.function.HttpApiHandler;
import io.micronaut.function.aws.proxy.MockLambdaContext;
import java.util.Map;

/** Time from the JVM's start (argument: epoch ms before java ran) to the handler built and to its first decision. */
public class Measure {
    public static void main(String[] a) {
        long t0 = Long.parseLong(a[0]);
        HttpApiHandler h = new HttpApiHandler();
        long init = System.currentTimeMillis();
        var e = APIGatewayV2HTTPEvent.builder().withVersion("2.0").withRawPath("/v1/check")
            .withHeaders(Map.of("content-type", "application/json"))
            .withBody("{\"policy\":\"demo\",\"key\":\"k\"}")
            .withRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder()
                .withHttp(APIGatewayV2HTTPEvent.RequestContext.Http.builder().withMethod("POST").withPath("/v1/check").build()).build())
            .build();
        var r = h.handleRequest(e, new MockLambdaContext());
        long first = System.currentTimeMillis();
        System.out.println("status=" + r.getStatusCode() + " init_ms=" + (init - t0) + " first_decision_ms=" + (first - t0));
        h.getApplicationContext().close();
        System.exit(0);
    }
}
