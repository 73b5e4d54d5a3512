package io.quarkiverse.busaltconnection.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The demo page in headless Chromium: it goes live on its channel over Server-Sent Events, and a message sent from its
 * form shows up in its feed. Leaves a screenshot in target/screenshots for the docs.
 */
@QuarkusTest
class DemoPageBrowserTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @TestHTTPResource("/")
    URL page;

    private ChromeDriver browser;

    @BeforeEach
    void openBrowser() {
        assertTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "headless Chromium is needed: run scripts/prerequisites.sh (Debian: apt-get install chromium"
                        + " chromium-driver)");
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile())
                // As root (CI) Chromium needs --no-sandbox; /dev/shm may be small in containers.
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,700");
        browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .build(), options);
    }

    @AfterEach
    void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    void aMessageSentFromTheFormAppearsInTheFeed() throws Exception {
        browser.get(page.toString());
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
        wait.until(ExpectedConditions.textToBe(By.id("status"), "live on public.demo"));

        String text = "hello from the browser " + UUID.randomUUID().toString().substring(0, 8);
        browser.findElement(By.id("payload")).sendKeys(text);
        browser.findElement(By.id("submit")).click();

        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector("#feed li.message .payload"),
                text));
        String channel = browser.findElement(By.cssSelector("#feed li.message .channel")).getText();
        assertTrue(channel.equals("public.demo"), channel);

        Path screenshots = Files.createDirectories(Path.of("target", "screenshots"));
        Files.write(screenshots.resolve("demo-page.png"), browser.getScreenshotAs(OutputType.BYTES));
    }

    @Test
    void aChannelThePageMayNotReadIsShownAsRefused() {
        browser.get(page.toString());
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
        wait.until(ExpectedConditions.textToBe(By.id("status"), "live on public.demo"));

        browser.findElement(By.id("channel")).clear();
        browser.findElement(By.id("channel")).sendKeys("greetings");
        browser.findElement(By.id("watch")).click();

        // A refusal, with the server's reason, instead of "reconnecting…" forever.
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("status"), "refused:"));
        String status = browser.findElement(By.id("status")).getText();
        assertTrue(status.contains("'greetings'") && status.contains("BusChannelAuthorizer"), status);
    }
}
