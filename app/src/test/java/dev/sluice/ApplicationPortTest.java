package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ApplicationPortTest {
    @Test
    void platformPortIsUsedWhenNothingElseNamesOne() {
        assertThat(Application.withPlatformPort(new String[0], Map.of("PORT", "9123")))
                .containsExactly("-micronaut.server.port=9123");
    }

    @Test
    void micronautsOwnSettingsWin() {
        assertThat(Application.withPlatformPort(new String[0], Map.of("PORT", "9123", "MICRONAUT_SERVER_PORT", "9")))
                .isEmpty();
        assertThat(Application.withPlatformPort(new String[] {"-micronaut.server.port=7"}, Map.of("PORT", "9123")))
                .containsExactly("-micronaut.server.port=7");
        assertThat(Application.withPlatformPort(new String[0], Map.of())).isEmpty();
    }

    @Test
    void aPortThatIsNotANumberStopsTheStartSayingSo() {
        assertThatThrownBy(() -> Application.withPlatformPort(new String[0], Map.of("PORT", "http")))
                .hasMessageContaining("PORT must be a port number");
        assertThatThrownBy(() -> Application.withPlatformPort(new String[0], Map.of("PORT", "70000")))
                .hasMessageContaining("PORT must be a port number");
    }
}
