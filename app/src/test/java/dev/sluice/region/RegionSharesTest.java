package dev.sluice.region;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.Limit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

/**
 * The share math of a global policy (RegionShares, the twin of region.lua): the shares of all
 * regions never add up to more than the whole, whatever the demands and whatever each region holds
 * of the others, as long as no region counts itself higher than the others count it; and the
 * protocol that keeps that true (lower before shipping, raise after every peer took it, apply newer
 * periods only) keeps it through loss, duplication, reordering and partitions. Time is an argument
 * (the period index), never a clock.
 */
class RegionSharesTest {

    @Property
    void sharesAddUpToAtMostTheWholeWhenEachRegionCountsItselfNoHigherThanOthersDo(
            @ForAll @IntRange(min = 2, max = 6) int regions,
            @ForAll @LongRange(min = 1, max = 1000) long f,
            @ForAll @IntRange(max = 1000) int floorPermille,
            @ForAll @Size(min = 6, max = 6) List<@LongRange(max = 1_000_000) Long> own,
            @ForAll @Size(min = 36, max = 36) List<@LongRange(max = 1_000_000) Long> overcount) {
        long sum = 0;
        for (int i = 0; i < regions; i++) {
            long peers = 0;
            for (int j = 0; j < regions; j++) {
                if (j != i) {
                    peers += own.get(j) + overcount.get(i * 6 + j); // i holds j's demand at or above j's own
                }
            }
            long phi = RegionShares.guaranteed(floorPermille / 1000.0, regions);
            long sn = RegionShares.share(f, phi, regions, own.get(i), peers);
            assertThat(sn).isGreaterThanOrEqualTo(phi);
            sum += sn;
        }
        assertThat(sum).isLessThanOrEqualTo(RegionShares.SCALE);
    }

    @Property
    void withTheSameViewEveryRegionGetsPhiAndItsDemandsFractionOfTheRest(
            @ForAll @IntRange(min = 2, max = 6) int regions,
            @ForAll @LongRange(min = 1, max = 100) long f,
            @ForAll @IntRange(max = 200) int floorPermille,
            @ForAll @Size(min = 6, max = 6) List<@LongRange(max = 100_000) Long> demand) {
        long phi = RegionShares.guaranteed(floorPermille / 1000.0, regions);
        long total = 0;
        for (int i = 0; i < regions; i++) {
            total += f + demand.get(i);
        }
        long sum = 0;
        for (int i = 0; i < regions; i++) {
            long peers = 0;
            for (int j = 0; j < regions; j++) {
                peers += j == i ? 0 : demand.get(j);
            }
            long sn = RegionShares.share(f, phi, regions, demand.get(i), peers);
            double exact = phi + (RegionShares.SCALE - regions * phi) * (double) (f + demand.get(i)) / total;
            assertThat((double) sn).isBetween(exact - 1, exact);
            sum += sn;
        }
        assertThat(sum).isBetween(RegionShares.SCALE - regions, RegionShares.SCALE);
    }

    @Property
    void aSharedBucketIsNeverLargerOrFasterThanItsShare(
            @ForAll @LongRange(min = 1, max = 1_000_000) long burst,
            @ForAll @LongRange(min = 1, max = 1_000_000) long limit,
            @ForAll @LongRange(min = 1, max = 86_400_000) long periodMs,
            @ForAll @LongRange(min = 1, max = 10_000) long sn) {
        long b = RegionShares.burst(burst, sn);
        long p = RegionShares.periodMicros(periodMs * 1000, sn);
        assertThat((double) b).isLessThanOrEqualTo(burst * sn / (double) RegionShares.SCALE);
        // the region's rate, limit / p, is at most its share of the policy's rate
        assertThat(limit / (double) p)
                .isLessThanOrEqualTo(limit / (periodMs * 1000.0) * sn / RegionShares.SCALE * (1 + 1e-12));
    }

    @Example
    void theFloorIsAFractionOfTheRateOverOneSyncPeriodSplitOverTheRegions() {
        // 6000 a minute = 100 a second; S = 1 s; 5 % over 3 regions: 1.67 -> 1
        assertThat(RegionShares.floorDemand(new Limit(6000, 6000, 60_000), 1_000_000, 0.05, 3))
                .isEqualTo(1);
        assertThat(RegionShares.floorDemand(new Limit(60_000, 60_000, 1000), 1_000_000, 0.05, 3))
                .isEqualTo(1000);
        assertThat(RegionShares.initial(3)).isEqualTo(3333);
        assertThat(RegionShares.guaranteed(0.05, 3)).isEqualTo(166); // 5 % split over 3 regions
    }

    /**
     * Found black-box: L = 100 a second, a burst of 100, region a asking 200 a period and c 1 (within
     * f, so never shipped): c's share was f / (R·f + 200), under one token, and c admitted nothing.
     * With φ it keeps whole tokens.
     */
    @Example
    void aRegionWithALittleDemandKeepsWholeTokensBesideAHotOne() {
        long f = RegionShares.floorDemand(new Limit(100, 100, 1000), 1_000_000, 0.05, 3);
        assertThat(RegionShares.burst(100, RegionShares.share(f, 0, 3, 0, 200))).isZero(); // without φ
        long sn = RegionShares.share(f, RegionShares.guaranteed(0.05, 3), 3, 0, 200);
        assertThat(sn).isEqualTo(166 + 9502 * (f + 0) / (3 * f + 200)); // 2.12 % of the limit
        assertThat(RegionShares.burst(100, sn)).isEqualTo(2);
    }

    record Message(int from, int to, long period, long demand, long deliverAt, boolean answered) {}

    private static String name(int region) {
        return "r" + region;
    }

    /**
     * The protocol against an adversarial network, on the production twin of region.lua
     * ({@link RegionState}) in virtual time: each period every region asks its demand, which changes
     * at random; it claims the period's demand for any subset of its peers (a node decides whom it
     * can reach, and may be wrong), which lowers what each of them may hold first; links lose,
     * duplicate, delay and reorder; an answer may be lost; what a peer may hold is raised only when
     * that peer took the period's shipment and nothing newer was sent to it since. After every step
     * the shares the regions decide on — each as it stored it last, not recomputed — add up to at
     * most the whole. (No peer expires here: expiry is the documented exception.)
     */
    @Property(tries = 200)
    void theProtocolKeepsTheSumWithinTheWholeThroughLossDuplicationReorderingAndPartitions(
            @ForAll @IntRange(min = 2, max = 5) int regions,
            @ForAll @LongRange(min = 1, max = 50) long f,
            @ForAll long seed) {
        long s = 1_000_000;
        Random random = new Random(seed);
        List<RegionState> rs = new ArrayList<>();
        long[] demand = new long[regions];
        for (int i = 0; i < regions; i++) {
            List<String> peers = new ArrayList<>();
            for (int j = 0; j < regions; j++) {
                if (j != i) {
                    peers.add(name(j));
                }
            }
            rs.add(new RegionState(new RegionState.Config(
                    s,
                    regions,
                    f,
                    RegionShares.guaranteed(0.05, regions),
                    Long.MAX_VALUE / 4,
                    Long.MAX_VALUE / 4,
                    peers)));
        }
        List<Message> inFlight = new ArrayList<>();
        boolean[] cut = new boolean[regions];
        for (long step = 1; step <= 60; step++) {
            final long now = step * s + 1;
            for (int i = 0; i < regions; i++) {
                cut[i] = random.nextInt(10) == 0 ? !cut[i] : cut[i];
                RegionState r = rs.get(i);
                List<String> to = new ArrayList<>();
                for (int j = 0; j < regions; j++) {
                    if (j != i && random.nextInt(4) != 0) { // else not attempted: taken for unreachable
                        to.add(name(j));
                    }
                }
                RegionState.Ship claim = r.ship(to, now);
                assertSumWithinWhole(rs, regions, now);
                for (String p : to) {
                    int j = Integer.parseInt(p.substring(1));
                    if (cut[i] || cut[j] || random.nextInt(5) == 0) {
                        continue; // lost or partitioned
                    }
                    int copies = random.nextInt(4) == 0 ? 2 : 1;
                    for (int c = 0; c < copies; c++) {
                        inFlight.add(new Message(
                                i,
                                j,
                                claim.period(),
                                claim.demand(),
                                now + random.nextInt(3) * s,
                                random.nextInt(5) != 0));
                    }
                }
                demand[i] = random.nextInt(4) == 0 ? random.nextInt(1000) : demand[i];
                r.decide(demand[i], now, RegionShares.initial(regions));
            }
            java.util.Collections.shuffle(inFlight, random);
            List<Message> due =
                    inFlight.stream().filter(m -> m.deliverAt() <= now).toList();
            inFlight.removeAll(due);
            for (Message m : due) {
                rs.get(m.to()).apply(name(m.from()), m.period(), m.demand(), now);
                assertSumWithinWhole(rs, regions, now);
                if (m.answered()) { // the answer came back: the peer took it
                    rs.get(m.from()).acked(m.period(), m.demand(), List.of(name(m.to())), now);
                }
                assertSumWithinWhole(rs, regions, now);
            }
        }
    }

    private static void assertSumWithinWhole(List<RegionState> rs, int regions, long now) {
        long sum = 0;
        for (RegionState r : rs) {
            sum += r.share(now, RegionShares.initial(regions));
        }
        assertThat(sum).isLessThanOrEqualTo(RegionShares.SCALE);
    }
}
