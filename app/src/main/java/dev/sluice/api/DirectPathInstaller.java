package dev.sluice.api;

import dev.sluice.admin.ServiceAuthFilter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.BeanProvider;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.filter.GenericHttpFilter;
import io.micronaut.http.netty.channel.ChannelPipelineCustomizer;
import io.micronaut.http.server.HttpServerConfiguration;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.micronaut.http.server.netty.handler.PipeliningServerHandler;
import io.micronaut.http.server.netty.handler.RequestHandler;
import io.micronaut.web.router.Router;
import io.netty.channel.Channel;
import jakarta.inject.Singleton;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts {@link DirectCheckPath} in front of the framework's request handler on every HTTP connection
 * ({@code limiter.http.direct-path}, on by default; {@code false} sends every check through the
 * controller).
 *
 * <p>Micronaut has no public hook for a request handler, so the one in its {@link
 * PipeliningServerHandler} is wrapped by reflection, once per connection; the rest of the pipeline is
 * the framework's. The path stays off, with one log line saying why, when that field is not there
 * (another Micronaut version), or when a filter other than the service-token filter and the metrics
 * filter applies to {@code POST /v1/check} (tracing, a filter of the deployment's
 * own): the direct path would skip it. The management endpoints' filter acts only on their routes,
 * and the CORS filter only on requests with an {@code Origin}, which the direct path does not claim.
 */
@Singleton
@Requires(property = "limiter.http.direct-path", notEquals = "false")
public class DirectPathInstaller implements BeanCreatedEventListener<NettyServerCustomizer.Registry> {
    private static final Logger LOG = LoggerFactory.getLogger(DirectPathInstaller.class);
    private static final String METRICS_FILTER = "io.micronaut.configuration.metrics.binder.web.ServerMetricsFilter";
    /** Acts only on routes of management endpoints (a sensitive endpoint asked without rights). */
    private static final String ENDPOINTS_FILTER = "io.micronaut.management.endpoint.EndpointsFilter";
    /** Acts only on requests with an {@code Origin}, which the direct path leaves to the framework. */
    private static final String CORS_FILTER = "io.micronaut.http.server.cors.CorsFilter";

    private static final Field REQUEST_HANDLER = requestHandlerField();

    private final BeanProvider<Checks> checks;
    private final BeanProvider<Router> router;
    private final BeanProvider<ServiceAuthFilter> auth;
    private final BeanProvider<MeterRegistry> registry;
    private final BeanProvider<HttpServerConfiguration> server;
    private final BeanProvider<io.micronaut.context.env.Environment> environment;
    private final LongAdder served = new LongAdder();

    /** null until the first connection; then whether the path may run, decided once. */
    private volatile Boolean usable;

    private RequestHandler wrapped;
    private DirectCheckPath wrapper;

    public DirectPathInstaller(
            BeanProvider<Checks> checks,
            BeanProvider<Router> router,
            BeanProvider<ServiceAuthFilter> auth,
            BeanProvider<MeterRegistry> registry,
            BeanProvider<HttpServerConfiguration> server,
            BeanProvider<io.micronaut.context.env.Environment> environment) {
        this.environment = environment;
        this.server = server;
        this.checks = checks;
        this.router = router;
        this.auth = auth;
        this.registry = registry;
    }

    @Override
    public NettyServerCustomizer.Registry onCreated(BeanCreatedEvent<NettyServerCustomizer.Registry> event) {
        event.getBean().register(new OnChannel(null));
        return event.getBean();
    }

    /** How many checks the direct path has answered on this node (for tests and diagnosis). */
    public long served() {
        return served.sum();
    }

    /** Follows every connection (and HTTP/2 stream) to the point where its pipeline is complete. */
    private final class OnChannel implements NettyServerCustomizer {
        private final Channel channel;

        OnChannel(Channel channel) {
            this.channel = channel;
        }

        @Override
        public NettyServerCustomizer specializeForChannel(Channel channel, ChannelRole role) {
            return role == ChannelRole.LISTENER ? this : new OnChannel(channel);
        }

        @Override
        public void onStreamPipelineBuilt() {
            if (channel != null
                    && channel.pipeline().get(ChannelPipelineCustomizer.HANDLER_MICRONAUT_INBOUND)
                            instanceof PipeliningServerHandler handler) {
                install(handler);
            }
        }
    }

    private void install(PipeliningServerHandler handler) {
        if (REQUEST_HANDLER == null || !usable()) {
            return;
        }
        try {
            RequestHandler next = (RequestHandler) REQUEST_HANDLER.get(handler);
            if (!(next instanceof DirectCheckPath)) {
                REQUEST_HANDLER.set(handler, wrapperFor(next));
            }
        } catch (IllegalAccessException | RuntimeException e) {
            LOG.warn("Could not install the direct check path on a connection; it uses the controller", e);
        }
    }

    /** One wrapper per framework handler (there is one per server). */
    private synchronized DirectCheckPath wrapperFor(RequestHandler next) {
        if (wrapped != next) {
            ServiceAuthFilter filter = auth.get();
            wrapper = new DirectCheckPath(
                    next,
                    checks.get(),
                    filter::admits,
                    metricsFilterApplies
                            ? new DirectCheckPath.Timers(
                                    registry.get(),
                                    environment
                                            .get()
                                            .getProperty(
                                                    "micronaut.metrics.binders.web.client-errors-uris.enabled",
                                                    Boolean.class,
                                                    true))
                            : null,
                    served,
                    server.get().getMaxRequestSize());
            wrapped = next;
        }
        return wrapper;
    }

    private boolean metricsFilterApplies;

    private boolean usable() {
        Boolean u = usable;
        if (u == null) {
            synchronized (this) {
                u = usable;
                if (u == null) {
                    u = decide();
                    usable = u;
                }
            }
        }
        return u;
    }

    /** Whether every filter that applies to a check is one the direct path does the work of. */
    private boolean decide() {
        HttpRequest<?> check = HttpRequest.POST("/v1/check", "");
        List<GenericHttpFilter> filters = new ArrayList<>(router.get().findPreMatchingFilters(check));
        filters.addAll(router.get().findFilters(check));
        List<String> others = new ArrayList<>(); // a bean with several filter methods is named once each
        for (GenericHttpFilter f : filters) {
            Object bean = beanOf(f);
            String name = bean == null ? f.toString() : bean.getClass().getName();
            if (bean instanceof ServiceAuthFilter || bean instanceof RequestHeadFilter) {
                continue; // the path asks the same token; it leaves what the head filter refuses to the framework
            }
            if (name.equals(METRICS_FILTER)) {
                metricsFilterApplies = true;
                continue;
            }
            if (name.equals(ENDPOINTS_FILTER) || name.equals(CORS_FILTER)) {
                continue;
            }
            others.add(name);
        }
        if (!others.isEmpty()) {
            LOG.info("POST /v1/check goes through the controller, not the direct path: filters {} apply to it", others);
            return false;
        }
        return true;
    }

    /** The bean behind one of the framework's filter records ({@code bean}), or null. */
    private static Object beanOf(GenericHttpFilter filter) {
        if (!filter.getClass().isRecord()) {
            return null;
        }
        try {
            for (RecordComponent c : filter.getClass().getRecordComponents()) {
                if (c.getName().equals("bean")) {
                    Method accessor = c.getAccessor();
                    accessor.setAccessible(true);
                    return accessor.invoke(filter);
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
        return null;
    }

    private static Field requestHandlerField() {
        try {
            Field f = PipeliningServerHandler.class.getDeclaredField("requestHandler");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LoggerFactory.getLogger(DirectPathInstaller.class)
                    .info(
                            "POST /v1/check goes through the controller: this Micronaut has no handler to wrap ({})",
                            e.toString());
            return null;
        }
    }
}
