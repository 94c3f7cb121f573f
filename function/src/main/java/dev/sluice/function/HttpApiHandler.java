package dev.sluice.function;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import io.micronaut.context.ApplicationContext;
import io.micronaut.context.ApplicationContextBuilder;
import io.micronaut.function.aws.proxy.payload2.APIGatewayV2HTTPEventFunction;

/**
 * Sluice as an AWS Lambda function behind an API Gateway HTTP API (payload format 2.0) or a Lambda
 * function URL: the service's own controllers, filters and error handling answer each event, as
 * they answer HTTP on a server (handler {@code dev.sluice.function.HttpApiHandler}, docs/deploy.md).
 * Usage a request admitted is in the ledger before the answer leaves ({@link AfterEachRequest}).
 */
public class HttpApiHandler extends APIGatewayV2HTTPEventFunction {
    private final AfterEachRequest after;

    /** The constructor the Lambda runtime calls: builds and starts the application context. */
    public HttpApiHandler() {
        this.after = new AfterEachRequest(getApplicationContext());
    }

    /** On a context built elsewhere (tests). */
    public HttpApiHandler(ApplicationContext context) {
        super(context);
        this.after = new AfterEachRequest(context);
    }

    @Override
    protected ApplicationContextBuilder newApplicationContextBuilder() {
        return super.newApplicationContextBuilder().properties(AfterEachRequest.FUNCTION_PROPERTIES);
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        try {
            return super.handleRequest(event, context);
        } finally {
            after.settle();
        }
    }
}
