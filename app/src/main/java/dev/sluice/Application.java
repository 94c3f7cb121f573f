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
        Micronaut.run(Application.class, args);
    }
}
