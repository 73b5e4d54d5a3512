package io.quarkiverse.busaltconnection.deployment;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import jakarta.enterprise.inject.spi.DeploymentException;
import jakarta.inject.Singleton;

import org.jboss.jandex.AnnotationInstance;
import org.jboss.jandex.AnnotationTarget;
import org.jboss.jandex.AnnotationValue;
import org.jboss.jandex.ClassType;
import org.jboss.jandex.DotName;
import org.jboss.jandex.IndexView;
import org.jboss.jandex.MethodInfo;
import org.jboss.jandex.Type;

import io.quarkiverse.busaltconnection.BusListener;
import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.BusAltConnectionRecorder;
import io.quarkiverse.busaltconnection.runtime.MessageChecks;
import io.quarkiverse.busaltconnection.runtime.config.ChannelExpressions;
import io.quarkiverse.busaltconnection.runtime.dispatch.BusListeners;
import io.quarkiverse.busaltconnection.runtime.dispatch.ExecutionModel;
import io.quarkiverse.busaltconnection.runtime.dispatch.ListenerMethod;
import io.quarkiverse.busaltconnection.runtime.dispatch.ParameterKind;
import io.quarkus.arc.deployment.AutoAddScopeBuildItem;
import io.quarkus.arc.deployment.BeanArchiveIndexBuildItem;
import io.quarkus.arc.deployment.BeanDiscoveryFinishedBuildItem;
import io.quarkus.arc.deployment.InvokerFactoryBuildItem;
import io.quarkus.arc.deployment.SyntheticBeanBuildItem;
import io.quarkus.arc.deployment.TransformedAnnotationsBuildItem;
import io.quarkus.arc.deployment.UnremovableBeanBuildItem;
import io.quarkus.arc.processor.BeanInfo;
import io.quarkus.arc.processor.BuiltinScope;
import io.quarkus.arc.processor.InvokerBuilder;
import io.quarkus.deployment.Capabilities;
import io.quarkus.deployment.Capability;
import io.quarkus.deployment.annotations.BuildProducer;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.annotations.ExecutionTime;
import io.quarkus.deployment.annotations.Record;
import io.quarkus.deployment.execannotations.ExecutionModelAnnotationsAllowedBuildItem;
import io.quarkus.deployment.recording.RecorderContext;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.common.annotation.NonBlocking;
import io.smallrye.common.annotation.RunOnVirtualThread;
import io.smallrye.mutiny.Uni;

/**
 * Finds the {@code @BusListener} methods, validates them (failing the build with every problem, each naming its
 * method), and generates an invoker for each, so the bus calls them without reflection.
 */
class BusListenerProcessor {

    /** A group name: also a configuration key. */
    private static final java.util.regex.Pattern GROUP_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9._-]{1,63}");

    private static final DotName BUS_LISTENER = DotName.createSimple(BusListener.class);
    private static final DotName BUS_MESSAGE = DotName.createSimple(BusMessage.class);
    private static final DotName STRING = DotName.createSimple(String.class);
    private static final DotName UNI = DotName.createSimple(Uni.class);
    private static final Set<DotName> ASYNC_RESULTS = Set.of(UNI,
            DotName.createSimple(java.util.concurrent.CompletionStage.class),
            DotName.createSimple(java.util.concurrent.CompletableFuture.class));
    private static final DotName BLOCKING = DotName.createSimple(Blocking.class);
    private static final DotName NON_BLOCKING = DotName.createSimple(NonBlocking.class);
    private static final DotName RUN_ON_VIRTUAL_THREAD = DotName.createSimple(RunOnVirtualThread.class);

    @BuildStep
    AutoAddScopeBuildItem listenerBeansAreSingletons() {
        // Like @ConsumeEvent: a class with listener methods and no scope becomes a @Singleton bean.
        return AutoAddScopeBuildItem.builder()
                .anyMethodMatches(BusListenerProcessor::isListenerMethod)
                .defaultScope(BuiltinScope.SINGLETON)
                .unremovable()
                .reason("Found @BusListener methods")
                .build();
    }

    @BuildStep
    UnremovableBeanBuildItem listenerBeansStay() {
        return new UnremovableBeanBuildItem(bean -> bean.isClassBean()
                && bean.getTarget().get().asClass().methods().stream().anyMatch(BusListenerProcessor::isListenerMethod));
    }

    @BuildStep
    ExecutionModelAnnotationsAllowedBuildItem executionModelAnnotations() {
        return new ExecutionModelAnnotationsAllowedBuildItem(BusListenerProcessor::isListenerMethod);
    }

    @BuildStep
    void collectListeners(BeanDiscoveryFinishedBuildItem discovery, TransformedAnnotationsBuildItem annotations,
            BeanArchiveIndexBuildItem beanArchive, InvokerFactoryBuildItem invokerFactory,
            BuildProducer<BusListenerMethodBuildItem> listeners) {
        IndexView index = beanArchive.getIndex();
        List<String> problems = new ArrayList<>();
        Set<MethodInfo> onBeans = new HashSet<>();

        for (BeanInfo bean : discovery.beanStream().classBeans()) {
            for (MethodInfo method : bean.getTarget().get().asClass().methods()) {
                AnnotationInstance annotation = method.isSynthetic() ? null : method.declaredAnnotation(BUS_LISTENER);
                if (annotation == null) {
                    continue;
                }
                onBeans.add(method);
                validate(method, annotation, annotations, problems).ifPresent(listener -> {
                    InvokerBuilder invoker = invokerFactory.createInvoker(bean, method).withInstanceLookup();
                    if (method.returnType().name().equals(UNI)) {
                        invoker.withReturnValueTransformer(Uni.class, "subscribeAsCompletionStage");
                    }
                    listeners.produce(new BusListenerMethodBuildItem(listener, invoker.build()));
                });
            }
        }
        for (AnnotationInstance annotation : index.getAnnotations(BUS_LISTENER)) {
            if (annotation.target().kind() == AnnotationTarget.Kind.METHOD
                    && !onBeans.contains(annotation.target().asMethod())) {
                problems.add(describe(annotation.target().asMethod()) + " is declared on a class that is not a bean"
                        + " (an abstract class, an interface, or a class excluded from bean discovery): move it to a"
                        + " concrete bean class");
            }
        }
        if (!problems.isEmpty()) {
            throw new DeploymentException("Invalid @BusListener method(s):\n\t- " + String.join("\n\t- ", problems));
        }
    }

    /**
     * The listener methods, handed to the runtime as a synthetic bean that the bus engine injects; with Quarkus
     * Messaging, the connector's incoming channels too.
     */
    @BuildStep
    @Record(ExecutionTime.RUNTIME_INIT)
    SyntheticBeanBuildItem listenersBean(BusAltConnectionRecorder recorder, List<BusListenerMethodBuildItem> listeners,
            RecorderContext recorderContext, Capabilities capabilities) {
        List<ListenerMethod> methods = new ArrayList<>();
        for (BusListenerMethodBuildItem listener : listeners) {
            methods.add(listener.method().withInvoker(recorderContext.newInstance(listener.invoker().getClassName())));
        }
        boolean messaging = capabilities.isPresent(Capability.MESSAGING);
        SyntheticBeanBuildItem.ExtendedBeanConfigurator bean = SyntheticBeanBuildItem.configure(BusListeners.class)
                .scope(Singleton.class)
                .setRuntimeInit()
                .unremovable()
                .createWith(recorder.listeners(methods, messaging));
        if (messaging) {
            bean.addInjectionPoint(ClassType.create(MessagingProcessor.INCOMING_CHANNELS));
        }
        return bean.done();
    }

    private static Optional<ListenerMethod> validate(MethodInfo method, AnnotationInstance annotation,
            TransformedAnnotationsBuildItem annotations, List<String> problems) {
        int before = problems.size();
        String where = describe(method);

        AnnotationValue value = annotation.value();
        String channel = value == null ? "" : value.asString();
        if (value == null || channel.isEmpty()) {
            problems.add(where + " names no channel: write @BusListener(\"channel\")");
        } else if (!ChannelExpressions.isExpression(channel)) {
            // An expression is checked once resolved, at startup.
            MessageChecks.busChannelProblem(channel).ifPresent(problem -> problems.add(where + ": " + problem));
        }
        AnnotationValue plainValue = annotation.value("plainNotifications");
        boolean plain = plainValue != null && plainValue.asBoolean();
        if (plain && !channel.isEmpty() && !ChannelExpressions.isExpression(channel)) {
            MessageChecks.channelProblem(channel).ifPresent(problem -> problems.add(where + " asks for plain"
                    + " notifications, but " + problem + ": rename the channel or drop plainNotifications"));
        }
        AnnotationValue groupValue = annotation.value("group");
        String group = groupValue == null ? "" : groupValue.asString();
        if (!group.isEmpty() && !GROUP_NAME.matcher(group).matches()) {
            problems.add(where + " names the group '" + group + "': a group name is 1 to 63 letters, digits, '.', '_'"
                    + " or '-' (it is a configuration key, quarkus.imdispatcher.groups.\"<group>\".*)");
        }
        if (!group.isEmpty() && plain) {
            problems.add(where + " asks for plain notifications in group '" + group + "': plain NOTIFYs are not"
                    + " stored, so a group cannot resume them; drop plainNotifications or the group");
        }
        if (java.lang.reflect.Modifier.isStatic(method.flags())) {
            problems.add(where + " is static: listener methods are called on the bean instance, remove 'static'");
        }
        if (java.lang.reflect.Modifier.isPrivate(method.flags())) {
            problems.add(where + " is private: make it package-private, protected or public");
        }

        Type returned = method.returnType();
        if (returned.kind() != Type.Kind.VOID && !ASYNC_RESULTS.contains(returned.name())) {
            problems.add(where + " returns " + returned + ": a listener returns void, Uni<?> or CompletionStage<?>"
                    + " (nothing receives other values)");
        }

        List<ParameterKind> parameters = new ArrayList<>();
        String payloadType = "";
        boolean payloadSeen = false;
        for (Type parameter : method.parameterTypes()) {
            if (parameter.name().equals(BUS_MESSAGE)) {
                if (parameters.contains(ParameterKind.MESSAGE)) {
                    problems.add(where + " takes BusMessage twice: keep one");
                }
                parameters.add(ParameterKind.MESSAGE);
                continue;
            }
            if (payloadSeen) {
                problems.add(where + " takes two payload parameters: a listener takes at most one payload"
                        + " (String or a type Jackson reads from JSON) and at most one BusMessage");
                continue;
            }
            payloadSeen = true;
            if (parameter.name().equals(STRING)) {
                parameters.add(ParameterKind.PAYLOAD_TEXT);
            } else {
                Optional<String> canonical = JacksonTypeNames.canonical(parameter);
                if (canonical.isEmpty()) {
                    problems.add(where + " takes a payload of type " + parameter + ", which is not a concrete type:"
                            + " use String, a class, or a parameterized type without type variables or wildcards");
                }
                parameters.add(ParameterKind.PAYLOAD_JSON);
                payloadType = canonical.orElse("");
            }
        }

        boolean blocking = annotations.hasAnnotation(method, BLOCKING);
        boolean nonBlocking = annotations.hasAnnotation(method, NON_BLOCKING);
        boolean virtualThread = annotations.hasAnnotation(method, RUN_ON_VIRTUAL_THREAD);
        if ((blocking ? 1 : 0) + (nonBlocking ? 1 : 0) + (virtualThread ? 1 : 0) > 1) {
            problems.add(where + " combines " + List.of(blocking ? "@Blocking" : "", nonBlocking ? "@NonBlocking" : "",
                    virtualThread ? "@RunOnVirtualThread" : "").stream().filter(s -> !s.isEmpty())
                    .collect(Collectors.joining(" and ")) + ": keep one");
        }
        ExecutionModel model = nonBlocking ? ExecutionModel.NON_BLOCKING
                : virtualThread ? ExecutionModel.VIRTUAL_THREAD : ExecutionModel.BLOCKING;
        if (!group.isEmpty() && nonBlocking) {
            problems.add(where + " is @NonBlocking in group '" + group + "': a group's call and the advance of its"
                    + " position share a JTA transaction, which needs a worker or virtual thread; remove @NonBlocking");
        }

        if (problems.size() > before) {
            return Optional.empty();
        }
        return Optional.of(new ListenerMethod(channel, describe(method), model, List.copyOf(parameters), payloadType, null,
                plain, group));
    }

    static boolean isListenerMethod(MethodInfo method) {
        return method.hasDeclaredAnnotation(BUS_LISTENER);
    }

    private static String describe(MethodInfo method) {
        return method.declaringClass().name() + "#" + method.name() + "(" + method.parameterTypes().stream()
                .map(Type::toString).collect(Collectors.joining(", ")) + ")";
    }
}
