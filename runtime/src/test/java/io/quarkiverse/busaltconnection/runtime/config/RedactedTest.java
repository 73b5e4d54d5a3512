package io.quarkiverse.busaltconnection.runtime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RedactedTest {

    @Test
    void passwordsLeaveUrlsAndTheRestStays() {
        assertEquals("jdbc:postgresql://db:5432/app?user=app&password=***&sslmode=require",
                Redacted.url("jdbc:postgresql://db:5432/app?user=app&password=s3cr%26t&sslmode=require"));
        assertEquals("jdbc:postgresql://db/app?sslpassword=***",
                Redacted.url("jdbc:postgresql://db/app?sslpassword=keypass"));
        assertEquals("jdbc:mysql://app:***@db:3306/app", Redacted.url("jdbc:mysql://app:hunter2@db:3306/app"));
        assertEquals("jdbc:postgresql://db/app?PASSWORD=***", Redacted.url("jdbc:postgresql://db/app?PASSWORD=x"));
        assertEquals("jdbc:postgresql://db/app", Redacted.url("jdbc:postgresql://db/app"));
    }
}
