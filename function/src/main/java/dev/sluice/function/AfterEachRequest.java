package dev.sluice.function;

import dev.sluice.plans.UsageLedger;
import dev.sluice.region.RegionSync;
import io.micronaut.context.ApplicationContext;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a function does before it hands its answer back: AWS Lambda freezes the process as soon as
 * the handler returns, so a write-behind task (the usage ledger's flush, every 250 ms on a server)
 * would not run until the next request reaches this instance, and not at all if the runtime reclaims
 * it first. Usage admitted during a request is therefore written to the ledger before the answer
 * leaves: one database round trip, and only when the request recorded usage (a check by API key).
 */
final class AfterEachRequest {
    private static final Logger LOG = LoggerFactory.getLogger(AfterEachRequest.class);

    /**
     * What a function's context sets on top of the service's configuration: no HTTP server starts
     * behind a function runtime, so Micronaut's "service ready" health indicator, which waits for
     * one, would hold {@code /health} DOWN for good.
     */
    static final Map<String, Object> FUNCTION_PROPERTIES = Map.of(
            "endpoints.health.service-ready-indicator-enabled", false,
            // a frozen process ships nothing in the background: the handler ships after requests
            "limiter.region.ship-in-background", false);

    private final Optional<UsageLedger> ledger;
    private final Optional<RegionSync> regions;

    AfterEachRequest(ApplicationContext context) {
        this.ledger = context.findBean(UsageLedger.class);
        this.regions = context.findBean(RegionSync.class);
    }

    /**
     * The ledger flush, and in multi-region mode the region's demand shipped to its peers when a
     * sync period has ended since the last shipment (RegionSync.shipIfDue: at most once a period,
     * bounded by the ship timeout). A frozen process never ships on its own; what one checked in
     * its last period before a long freeze is shipped by the next request that finds that period
     * over, or not at all — its region is then counted lower than it was (a smaller share, never a
     * larger one: docs/multi-region.md).
     */
    void settle() {
        regions.ifPresent(RegionSync::shipIfDue);
        if (ledger.isPresent() && !ledger.get().flushNow()) {
            // the units stay buffered (sluice_ledger_pending_units) and are written by the next
            // request's flush or the scheduled one; the ledger has already logged why
            LOG.warn(
                    "Usage admitted in this request is not in the ledger yet ({} unit(s) buffered); the database"
                            + " did not take it",
                    ledger.get().pendingUnits());
        }
    }
}
