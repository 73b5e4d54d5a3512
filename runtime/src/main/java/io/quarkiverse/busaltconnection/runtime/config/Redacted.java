package io.quarkiverse.busaltconnection.runtime.config;

import java.util.regex.Pattern;

/** Connection URLs as they may appear in messages and logs: without the secrets they can hold. */
public final class Redacted {

    /** {@code password=...} and {@code sslpassword=...} parameters, up to the next {@code &}, {@code ;} or space. */
    private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)((?:ssl)?password=)[^&;\\s]*");
    /** {@code user:password@} in the authority. */
    private static final Pattern USER_INFO = Pattern.compile("(//[^/:@\\s]*):[^@/\\s]*@");

    private Redacted() {
    }

    public static String url(String url) {
        if (url == null) {
            return null;
        }
        String redacted = PASSWORD_PARAMETER.matcher(url).replaceAll("$1***");
        return USER_INFO.matcher(redacted).replaceAll("$1:***@");
    }
}
