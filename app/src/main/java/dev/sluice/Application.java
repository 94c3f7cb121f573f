package dev.sluice;

import io.micronaut.runtime.Micronaut;
import io.swagger.v3.oas.annotations.OpenAPIDefinition;
import io.swagger.v3.oas.annotations.enums.SecuritySchemeType;
import io.swagger.v3.oas.annotations.info.Info;
import io.swagger.v3.oas.annotations.info.License;
import io.swagger.v3.oas.annotations.security.SecurityScheme;

/**
 * Starts the Sluice service. The OpenAPI description of its API is generated at build time
 * (micronaut-openapi) and served at {@code /swagger/sluice-0.1.yml}.
 */
@OpenAPIDefinition(
        info =
                @Info(
                        title = "Sluice",
                        version = "0.1",
                        description = "A distributed API rate limiter: checks (/v1) and the admin API for plans, keys,"
                                + " overrides, usage and violations (/admin). Errors are application/problem+json.",
                        license = @License(name = "Proprietary")))
@SecurityScheme(name = "admin-token", type = SecuritySchemeType.HTTP, scheme = "bearer")
@SecurityScheme(name = "service-token", type = SecuritySchemeType.HTTP, scheme = "bearer")
public final class Application {
    private Application() {}

    public static void main(String[] args) {
        String[] withPort;
        try {
            withPort = withPlatformPort(args, System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        Micronaut.run(Application.class, withPort);
    }

    /**
     * Cloud Run, Knative, Heroku and others name the port to listen on in {@code PORT}: it is used
     * when neither {@code MICRONAUT_SERVER_PORT} nor a {@code -micronaut.server.port} argument says
     * otherwise. A {@code PORT} that is not a port number stops the start with a message that says so.
     */
    static String[] withPlatformPort(String[] args, java.util.Map<String, String> env) {
        String port = env.get("PORT");
        if (port == null
                || port.isBlank()
                || env.containsKey("MICRONAUT_SERVER_PORT")
                || java.util.Arrays.stream(args).anyMatch(a -> a.startsWith("-micronaut.server.port="))) {
            return args;
        }
        int n;
        try {
            n = Integer.parseInt(port.trim());
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 0 || n > 65535) {
            throw new IllegalArgumentException("PORT must be a port number (0 to 65535), not '" + port + "'");
        }
        String[] with = java.util.Arrays.copyOf(args, args.length + 1);
        with[args.length] = "-micronaut.server.port=" + n;
        return with;
    }
}
