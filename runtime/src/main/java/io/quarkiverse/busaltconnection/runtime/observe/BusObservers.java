package io.quarkiverse.busaltconnection.runtime.observe;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.BusMessage;

/**
 * Every {@link BusObserver} bean of the application, called in turn; an observer that throws is logged and does not
 * disturb the bus or the other observers.
 */
@Singleton
public class BusObservers {

    private static final Logger LOG = Logger.getLogger(BusObservers.class);

    private final List<BusObserver> observers;

    @Inject
    public BusObservers(@Any Instance<BusObserver> observers) {
        this.observers = observers.stream().toList();
    }

    /** The trace context the first observer that has one gives, or null. */
    public String sending(String channel) {
        for (BusObserver observer : observers) {
            try {
                String context = observer.sending(channel);
                if (context != null) {
                    return context;
                }
            } catch (RuntimeException e) {
                LOG.debugf(e, "Bus observer %s failed", observer.getClass().getName());
            }
        }
        return null;
    }

    /** Every observer's view of one listener call, as one. */
    public ListenerCall calling(BusMessage message, String listener) {
        if (observers.isEmpty()) {
            return ListenerCall.NONE;
        }
        List<ListenerCall> calls = new ArrayList<>(observers.size());
        each(observer -> calls.add(observer.calling(message, listener)));
        return new ListenerCall() {
            @Override
            public Current makeCurrent() {
                List<Current> currents = new ArrayList<>(calls.size());
                calls.forEach(call -> currents.add(call.makeCurrent()));
                return () -> {
                    for (int i = currents.size() - 1; i >= 0; i--) {
                        currents.get(i).close();
                    }
                };
            }

            @Override
            public void ended(Throwable failure) {
                calls.forEach(call -> call.ended(failure));
            }
        };
    }

    public void sent(String channel) {
        each(observer -> observer.sent(channel));
    }

    public void delivered(String channel, String listener, boolean success, Duration sinceWritten, Duration took) {
        each(observer -> observer.delivered(channel, listener, success, sinceWritten, took));
    }

    public void httpClientJoined(String kind) {
        each(observer -> observer.httpClientJoined(kind));
    }

    public void httpClientLeft(String kind) {
        each(observer -> observer.httpClientLeft(kind));
    }

    public void httpBacklogRead(String kind) {
        each(observer -> observer.httpBacklogRead(kind));
    }

    public void httpTurnedAway(String kind) {
        each(observer -> observer.httpTurnedAway(kind));
    }

    private void each(Consumer<BusObserver> call) {
        for (BusObserver observer : observers) {
            try {
                call.accept(observer);
            } catch (RuntimeException e) {
                LOG.debugf(e, "Bus observer %s failed", observer.getClass().getName());
            }
        }
    }
}
