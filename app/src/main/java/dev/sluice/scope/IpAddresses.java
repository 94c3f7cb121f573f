package dev.sluice.scope;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * IP address literals, parsed without ever asking DNS: IPv4 dotted quads are matched strictly
 * first; anything else must contain a colon, which the JDK parses as an IPv6 literal only.
 */
public final class IpAddresses {
    private static final Pattern V4 =
            Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

    private IpAddresses() {}

    /**
     * The address written in {@code text} (IPv4, IPv6, IPv6 in brackets, optionally with a port as
     * in {@code Forwarded: for="[2001:db8::1]:4711"} or {@code 192.0.2.1:80}), or {@code null}.
     * IPv4-mapped IPv6 addresses come back as IPv4.
     */
    public static InetAddress parse(String text) {
        if (text == null) {
            return null;
        }
        String s = text.trim();
        if (s.startsWith("\"") && s.endsWith("\"") && s.length() >= 2) {
            s = s.substring(1, s.length() - 1);
        }
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                return null;
            }
            s = s.substring(1, close);
        } else if (s.indexOf(':') >= 0 && s.indexOf(':') == s.lastIndexOf(':') && s.indexOf('.') > 0) {
            s = s.substring(0, s.indexOf(':')); // 192.0.2.1:80
        }
        int zone = s.indexOf('%');
        if (zone >= 0) {
            s = s.substring(0, zone);
        }
        try {
            if (V4.matcher(s).matches()) {
                return InetAddress.getByName(s);
            }
            if (s.indexOf(':') >= 0 && s.matches("[0-9A-Fa-f:.]+")) {
                return InetAddress.getByName(s); // a literal: the JDK does not resolve strings with ':'
            }
        } catch (UnknownHostException e) {
            return null;
        }
        return null;
    }

    /** The subject of {@code address}: IPv4 as is, IPv6 masked to {@code prefix} bits and written with it. */
    public static String subject(InetAddress address, int prefix) {
        if (address instanceof Inet4Address) {
            return address.getHostAddress();
        }
        byte[] bytes = address.getAddress();
        for (int bit = prefix; bit < 128; bit++) {
            bytes[bit / 8] &= (byte) ~(0x80 >> (bit % 8));
        }
        try {
            return Inet6Address.getByAddress(null, bytes).getHostAddress() + "/" + prefix;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
