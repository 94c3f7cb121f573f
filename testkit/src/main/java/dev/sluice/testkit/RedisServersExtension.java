package dev.sluice.testkit;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Registers the stop of {@link RedisServers} with the end of the whole test run, so servers are
 * shared by the test classes of one JVM and always stopped, also when tests fail.
 */
public final class RedisServersExtension implements BeforeAllCallback {
    @Override
    public void beforeAll(ExtensionContext context) {
        context.getRoot()
                .getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent(
                        RedisServersExtension.class,
                        k -> (ExtensionContext.Store.CloseableResource) RedisServers::stopAll,
                        ExtensionContext.Store.CloseableResource.class);
    }
}
