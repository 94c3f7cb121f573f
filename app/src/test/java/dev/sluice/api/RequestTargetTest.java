package dev.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RequestTargetTest {

    @Test
    void escapesThatAreUtf8Pass() {
        assertThat(RequestTarget.badEscapeAt("/v1/limits/api/caf%C3%A9")).isEqualTo(-1);
        assertThat(RequestTarget.badEscapeAt("/v1/limits/api/%F0%9F%98%80-%2B%3B"))
                .isEqualTo(-1);
        assertThat(RequestTarget.badEscapeAt("/v1/limits/api/plain")).isEqualTo(-1);
        assertThat(RequestTarget.badEscapeAt(null)).isEqualTo(-1);
        // U+FFFD sent as what it is stays a key of its own
        assertThat(RequestTarget.badEscapeAt("/v1/limits/api/%EF%BF%BD")).isEqualTo(-1);
    }

    @Test
    void escapesThatAreNotUtf8OrMalformedAreFoundWhereTheyBegin() {
        assertThat(RequestTarget.badEscapeAt("/v1/limits/api/%FF")).isEqualTo(15);
        assertThat(RequestTarget.badEscapeAt("/v1/limits/api/a%C3")).isEqualTo(16); // a truncated sequence
        assertThat(RequestTarget.badEscapeAt("/v1/limits/api/%C3x%A9")).isEqualTo(15); // split by a literal
        assertThat(RequestTarget.badEscapeAt("/v1/limits/api/%ED%A0%80")).isEqualTo(15); // a surrogate's bytes
        assertThat(RequestTarget.badEscapeAt("/v1/limits/api/%zz")).isEqualTo(15);
        assertThat(RequestTarget.badEscapeAt("/v1/limits/api/ok%4")).isEqualTo(17);
        assertThat(RequestTarget.badEscapeAt("/a/%41%FF")).isEqualTo(3);
        assertThat(RequestTarget.badEscapeAt("/v1/limits/api/a\u00ffb")).isEqualTo(16); // an unescaped byte
        assertThat(RequestTarget.shown("/a\u00ff", 2)).isEqualTo("\\xFF");
    }

    @Test
    void theFieldIsThePathVariableOrQueryParameterThatHoldsTheEscape() {
        String template = "/v1/limits/{policy}/{key}";
        assertThat(RequestTarget.pathField("/v1/limits/api/%FF", 15, template)).isEqualTo("key");
        assertThat(RequestTarget.pathField("/v1/limits/%FF/k", 11, template)).isEqualTo("policy");
        assertThat(RequestTarget.pathField("/v1/%FF/api/k", 4, template)).isEqualTo("path");
        assertThat(RequestTarget.pathField("/nowhere/%FF", 9, null)).isEqualTo("path");
        assertThat(RequestTarget.queryField("key=a&plan=%FF", 11)).isEqualTo("plan");
        assertThat(RequestTarget.queryField("%FF=1", 0)).isEqualTo("query");
        assertThat(RequestTarget.shown("/a/%FF%FE%FD%FC%FB", 3)).isEqualTo("%FF%FE%FD%FC");
        assertThat(RequestTarget.shown("/a/%z", 3)).isEqualTo("%z");
    }

    @Test
    void aPathIsDecodedAsRfc3986SaysAPlusIsAPlus() {
        assertThat(RequestTarget.decode("a+b")).isEqualTo("a+b");
        assertThat(RequestTarget.decode("a%2Bb")).isEqualTo("a+b");
        assertThat(RequestTarget.decode("a%20b")).isEqualTo("a b");
        assertThat(RequestTarget.decode("caf%C3%A9;x=(1)!&")).isEqualTo("café;x=(1)!&");
        assertThat(RequestTarget.decode("a%2Fb")).isEqualTo("a/b");
        assertThat(RequestTarget.decode("plain")).isEqualTo("plain");
    }
}
