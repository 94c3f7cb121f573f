package io.micronaut.function.aws.proxy.test;

import com.sun.net.httpserver.HttpHandler;
import io.micronaut.function.aws.proxy.payload2.APIGatewayV2HTTPEventFunction;

/**
 * The test support of micronaut-function-aws-api-proxy-test (its {@code AwsProxyHttpHandler} turns a
 * real HTTP exchange into an API Gateway HTTP API event, calls the function and writes its response
 * back) for a function of our own, where the module only offers it for the function it builds
 * itself (and for a server module, micronaut-http-server-jdk, that is not on the mirror here).
 */
public final class OverHttp {
    private OverHttp() {}

    public static HttpHandler of(APIGatewayV2HTTPEventFunction function) {
        return new AwsProxyHttpHandler(function);
    }
}
