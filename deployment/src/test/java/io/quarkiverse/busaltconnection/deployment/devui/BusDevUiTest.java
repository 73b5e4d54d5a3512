package io.quarkiverse.busaltconnection.deployment.devui;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkiverse.busaltconnection.BusListener;
import io.quarkus.test.QuarkusDevModeTest;

/**
 * The Dev UI card's JSON-RPC methods, in dev mode on Dev Services: the listener's state, the listener methods, and a
 * test message sent from the card that shows up in its feed and in the listener's count.
 */
class BusDevUiTest {

    private static final String NAMESPACE = "quarkus-bus-alt-connection";

    @RegisterExtension
    static final QuarkusDevModeTest DEV_MODE = new QuarkusDevModeTest()
            .withApplicationRoot(jar -> jar.addClasses(Greetings.class, Billing.class));

    public static class Greetings {
        @BusListener("greetings")
        void on(String text) {
            if (text.equals("bad")) {
                throw new IllegalArgumentException("refused by the test listener");
            }
        }
    }

    public static class Billing {
        @BusListener(value = "invoices", group = "billing")
        void bill(String invoice) {
        }
    }

    @Test
    void stateListenersAndATestMessageThatShowsUpInTheFeed() throws Exception {
        JsonNode state = DevUiJsonRpcClient.call(NAMESPACE, "getState", Map.of());
        assertTrue(state.path("listening").asBoolean(), state.toString());
        assertTrue(state.path("backendPid").asInt() > 0, state.toString());

        // The group's member takes its one partition at its first sweep.
        await().atMost(Duration.ofSeconds(20)).until(() -> DevUiJsonRpcClient.call(NAMESPACE, "getGroups", Map.of())
                .path(0).path("owner").asBoolean());
        JsonNode groups = DevUiJsonRpcClient.call(NAMESPACE, "getGroups", Map.of());
        assertEquals(1, groups.size(), groups.toString());
        assertEquals("billing", groups.get(0).path("group").asText());
        assertEquals("invoices", groups.get(0).path("channel").asText());
        assertEquals(0, groups.get(0).path("partition").asInt());

        JsonNode listeners = DevUiJsonRpcClient.call(NAMESPACE, "getListeners", Map.of());
        assertEquals(1, listeners.size(), listeners.toString());
        assertEquals("greetings", listeners.get(0).path("channel").asText());
        assertTrue(listeners.get(0).path("method").asText().endsWith("Greetings#on(java.lang.String)"),
                listeners.toString());

        long delivered = listeners.get(0).path("delivered").asLong();
        long failed = listeners.get(0).path("failed").asLong();
        JsonNode sent = DevUiJsonRpcClient.call(NAMESPACE, "sendTestMessage",
                Map.of("channel", "greetings", "payload", "from the Dev UI"));
        assertTrue(sent.path("sent").asBoolean(), sent.toString());
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            JsonNode messages = DevUiJsonRpcClient.call(NAMESPACE, "getRecentMessages", Map.of());
            return messages.size() >= 1 && messages.get(0).path("payload").asText().equals("from the Dev UI")
                    && messages.get(0).path("channel").asText().equals("greetings");
        });
        await().atMost(Duration.ofSeconds(20)).until(() -> DevUiJsonRpcClient.call(NAMESPACE, "getListeners",
                Map.of()).get(0).path("delivered").asLong() == delivered + 1);

        // One meaning, the meters': a call that throws is failed, not delivered.
        assertTrue(DevUiJsonRpcClient.call(NAMESPACE, "sendTestMessage", Map.of("channel", "greetings", "payload",
                "bad")).path("sent").asBoolean());
        await().atMost(Duration.ofSeconds(20)).until(() -> DevUiJsonRpcClient.call(NAMESPACE, "getListeners",
                Map.of()).get(0).path("failed").asLong() == failed + 1);
        assertEquals(delivered + 1, DevUiJsonRpcClient.call(NAMESPACE, "getListeners", Map.of()).get(0)
                .path("delivered").asLong());

        JsonNode refused = DevUiJsonRpcClient.call(NAMESPACE, "sendTestMessage", Map.of("channel", "", "payload", "x"));
        assertTrue(!refused.path("sent").asBoolean() && refused.path("error").asText().contains("channel"),
                refused.toString());
    }

    /**
     * The card itself in headless Chromium: the form sends (the text fields and button of the Dev UI's own
     * components), the feed shows the message, the listener table counts it.
     */
    @Test
    void theCardsFormSendsAndItsFeedShowsTheMessage() throws Exception {
        assertTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "headless Chromium is needed: run scripts/prerequisites.sh (Debian: apt-get install chromium"
                        + " chromium-driver)");
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile())
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1300,900");
        ChromeDriver browser = new ChromeDriver(new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).build(), options);
        Path screenshots = Files.createDirectories(Path.of("target", "screenshots"));
        try {
            browser.get("http://localhost:8080/q/dev-ui/" + NAMESPACE + "/bus");
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
            wait.until(driver -> Boolean.TRUE.equals(browser.executeScript(DEEP_QUERY
                    + "return deep(document, 'qwc-bus-alt-connection')?.shadowRoot?.querySelector('vaadin-button')"
                    + " != null;")));
            String payload = "typed in the card " + System.nanoTime();
            browser.executeScript(DEEP_QUERY + "const card = deep(document, 'qwc-bus-alt-connection').shadowRoot;"
                    + "card.getElementById('channel').value = 'greetings';"
                    + "card.getElementById('payload').value = arguments[0];"
                    + "card.querySelector('vaadin-button').click();", payload);
            wait.until(driver -> Boolean.TRUE.equals(browser.executeScript(DEEP_QUERY
                    + "const card = deep(document, 'qwc-bus-alt-connection').shadowRoot;"
                    + "return card.textContent.includes('sent on greetings')"
                    + " && [...card.querySelectorAll('td.payload')].some(cell => cell.textContent === arguments[0])"
                    + " && card.getElementById('groups')?.textContent.includes('billing');",
                    payload)));
        } finally {
            Files.write(screenshots.resolve("dev-ui-card.png"), browser.getScreenshotAs(OutputType.BYTES));
            browser.quit();
        }
    }

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    /** Finds an element through every shadow root: the Dev UI nests the card in several. */
    private static final String DEEP_QUERY = "function deep(root, selector) {"
            + " const found = root.querySelector(selector); if (found) { return found; }"
            + " for (const element of root.querySelectorAll('*')) {"
            + "  if (element.shadowRoot) { const inner = deep(element.shadowRoot, selector); if (inner) { return inner; } }"
            + " } return null; }";
}
