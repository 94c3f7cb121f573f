package dev.sluice.function;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyRequestEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyResponseEvent;
import io.micronaut.context.ApplicationContext;
import io.micronaut.context.ApplicationContextBuilder;
import io.micronaut.function.aws.proxy.payload1.ApiGatewayProxyRequestEventFunction;

/**
 * Sluice as an AWS Lambda function behind an API Gateway REST API (proxy integration, payload
 * format 1.0): handler {@code dev.sluice.function.RestApiHandler}. Otherwise as {@link
 * HttpApiHandler}.
 */
public class RestApiHandler extends ApiGatewayProxyRequestEventFunction {
    private final AfterEachRequest after;

    /** The constructor the Lambda runtime calls: builds and starts the application context. */
    public RestApiHandler() {
        this.after = new AfterEachRequest(getApplicationContext());
    }

    /** On a context built elsewhere (tests). */
    public RestApiHandler(ApplicationContext context) {
        super(context);
        this.after = new AfterEachRequest(context);
    }

    @Override
    protected ApplicationContextBuilder newApplicationContextBuilder() {
        return super.newApplicationContextBuilder().properties(AfterEachRequest.FUNCTION_PROPERTIES);
    }

    @Override
    public APIGatewayProxyResponseEvent handleRequest(APIGatewayProxyRequestEvent event, Context context) {
        try {
            return super.handleRequest(event, context);
        } finally {
            after.settle();
        }
    }
}
