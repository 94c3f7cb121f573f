package dev.sluice;

import io.micronaut.runtime.Micronaut;

/** Starts the Sluice service. */
public final class Application {
    private Application() {}

    public static void main(String[] args) {
        Micronaut.run(Application.class, args);
    }
}
