package org.busispark.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import org.busispark.storage.Json;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The deploy/ scripts run against a stand-in spark-submit that prints its arguments, one per line: what each cluster
 * manager's wrapper would submit, the GPU discovery script against a stand-in nvidia-smi, and the retraining wrapper.
 */
class DeployScriptsTest {
    private static final Path DEPLOY = Path.of("deploy").toAbsolutePath();
    private static final Path CONF = Path.of("conf/cluster.conf").toAbsolutePath();
    @TempDir
    Path tmp;
    private Path jar;

    record Result(int code, String out) {
        List<String> lines() {
            return out.lines().toList();
        }
    }

    @BeforeEach
    void standIns() throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("spark/bin"));
        script(bin.resolve("spark-submit"), "printf '%s\\n' \"$@\"");
        jar = Files.writeString(tmp.resolve("busi-spark-cluster.jar"), "jar");
    }

    private static void script(Path path, String body) throws IOException {
        Files.writeString(path, "#!/usr/bin/env bash\n" + body + "\n");
        assertTrue(path.toFile().setExecutable(true));
    }

    private Result run(Map<String, String> env, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("BUSI_") || k.startsWith("SPARK_") || k.equals("DEPLOY_MODE"));
        pb.environment().put("SPARK_HOME", tmp.resolve("spark").toString());
        pb.environment().put("BUSI_JAR", jar.toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), String.join(" ", command));
        return new Result(p.exitValue(), out);
    }

    private Result submit(String manager, Map<String, String> env) throws Exception {
        Result r = run(env, DEPLOY.resolve(manager + "/submit.sh").toString(), "run", "--input", "in", "--output", "out");
        assertEquals(0, r.code(), r.out());
        return r;
    }

    /** The busi arguments: everything after the jar. */
    private static List<String> busiArgs(List<String> args, String jar) {
        return args.subList(args.indexOf(jar) + 1, args.size());
    }

    /** The value that follows {@code option}. */
    private static String after(List<String> args, String option) {
        int i = args.indexOf(option);
        assertTrue(i >= 0 && i + 1 < args.size(), option + " in " + args);
        return args.get(i + 1);
    }

    @Test
    void everyScriptParsesAndTheEntryPointsAreExecutable() throws Exception {
        List<Path> scripts;
        try (Stream<Path> files = Files.walk(DEPLOY)) {
            scripts = files.filter(p -> p.toString().endsWith(".sh")).sorted().toList();
        }
        assertEquals(6, scripts.size(), scripts.toString());
        for (Path s : scripts) {
            Result r = run(Map.of(), "bash", "-n", s.toString());
            assertEquals(0, r.code(), s + ": " + r.out());
            assertEquals(!s.getFileName().toString().equals("common.sh"), Files.isExecutable(s), s + " (common.sh is sourced)");
        }
    }

    @Test
    void yarnShipsTheSettingsAndTheDiscoveryScriptAndSizesOffHeapMemory() throws Exception {
        List<String> args = submit("yarn", Map.of("BUSI_EVENT_LOG_DIR", "hdfs:///spark-logs", "BUSI_QUEUE", "ml")).lines();
        assertEquals("yarn", after(args, "--master"));
        assertEquals("ml", after(args, "--queue"));
        assertEquals("cluster", after(args, "--deploy-mode"));
        assertEquals("org.busispark.cli.BusiCli", after(args, "--class"));
        assertEquals("16g", after(args, "--executor-memory"));
        assertEquals("4", after(args, "--executor-cores"));
        assertTrue(args.containsAll(List.of("spark.executor.instances=4", "spark.executor.memoryOverhead=22g",
                "spark.executor.extraJavaOptions=-Dorg.bytedeco.javacpp.maxbytes=20G -Dorg.bytedeco.javacpp.maxphysicalbytes=37G",
                "spark.serializer=org.apache.spark.serializer.KryoSerializer",
                "spark.kryo.registrator=org.busispark.config.BusiKryoRegistrator",
                "spark.executor.resource.gpu.amount=1", "spark.task.resource.gpu.amount=0.25",
                "spark.executor.resource.gpu.discoveryScript=./getGpusResources.sh",
                "spark.eventLog.enabled=true", "spark.eventLog.dir=hdfs:///spark-logs", "spark.yarn.maxAppAttempts=1",
                "spark.hadoop.fs.s3a.aws.credentials.provider=com.amazonaws.auth.DefaultAWSCredentialsProviderChain")), args.toString());
        assertEquals(CONF + "," + DEPLOY.resolve("gpu/getGpusResources.sh"), after(args, "--files"));
        assertEquals(List.of("run", "--conf", "cluster.conf", "--input", "in", "--output", "out"),
                busiArgs(args, jar.toString()), "the driver reads the shipped copy in its working directory");
        assertTrue(args.stream().noneMatch(a -> a.toLowerCase().contains("secret") || a.contains("access.key")),
                "no credentials on the command line");
    }

    @Test
    void standaloneRunsTheDriverHereAndCapsCores() throws Exception {
        List<String> args = submit("standalone", Map.of("SPARK_MASTER_URL", "spark://m:7077", "BUSI_EXECUTORS", "2",
                "BUSI_EXECUTOR_CORES", "2", "BUSI_GPUS_PER_EXECUTOR", "1")).lines();
        assertEquals("spark://m:7077", after(args, "--master"));
        assertEquals("client", after(args, "--deploy-mode"));
        assertTrue(args.containsAll(List.of("spark.cores.max=4", "spark.task.resource.gpu.amount=0.5",
                "spark.executor.resource.gpu.discoveryScript=/opt/busi/deploy/gpu/getGpusResources.sh")), args.toString());
        assertFalse(args.contains("--files"), "nothing to ship: the driver reads the local settings file");
        assertEquals(List.of("run", "--conf", CONF.toString(), "--input", "in", "--output", "out"), busiArgs(args, jar.toString()));

        List<String> cpu = submit("standalone", Map.of("SPARK_MASTER_URL", "spark://m:7077", "BUSI_GPUS_PER_EXECUTOR", "0")).lines();
        assertTrue(cpu.stream().noneMatch(a -> a.contains("resource.gpu")), "CPU executors ask for no GPUs: " + cpu);
        assertTrue(cpu.contains("spark.cores.max=16"));
    }

    @Test
    void kubernetesUsesTheImagesJarSettingsAndDiscoveryScript() throws Exception {
        Map<String, String> env = new HashMap<>(Map.of("K8S_API", "https://api:6443", "BUSI_IMAGE", "reg/busi:cuda"));
        env.put("BUSI_JAR", "");  // unset: the image's jar
        List<String> args = submit("k8s", env).lines();
        String imageJar = "local:///opt/busi/busi-spark-cluster.jar";
        assertEquals("k8s://https://api:6443", after(args, "--master"));
        assertEquals("cluster", after(args, "--deploy-mode"));
        assertTrue(args.containsAll(List.of(imageJar, "spark.kubernetes.container.image=reg/busi:cuda",
                "spark.executor.resource.gpu.vendor=nvidia.com",
                "spark.executor.resource.gpu.discoveryScript=/opt/busi/deploy/gpu/getGpusResources.sh")), args.toString());
        assertFalse(args.contains("--files"));
        assertEquals(List.of("run", "--conf", "/opt/busi/conf/cluster.conf", "--input", "in", "--output", "out"),
                busiArgs(args, imageJar));
    }

    @Test
    void aMissingJarOrCommandIsAUsageError() throws Exception {
        Result noJar = run(Map.of("BUSI_JAR", tmp.resolve("none.jar").toString()), DEPLOY.resolve("yarn/submit.sh").toString(), "run");
        assertEquals(2, noJar.code());
        assertTrue(noJar.out().contains("mvn -B -Pcluster -DskipTests package"), noJar.out());
        Result noCommand = run(Map.of(), DEPLOY.resolve("yarn/submit.sh").toString());
        assertEquals(2, noCommand.code());
        assertTrue(noCommand.out().contains("usage:"), noCommand.out());
    }

    @Test
    void gpuDiscoveryPrintsSparksResourceJson() throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("gpu-bin"));
        script(bin.resolve("nvidia-smi"), "[[ \"$*\" == *--query-gpu=index* ]] || exit 3; printf '0\\n 1\\n'");
        Map<String, String> env = Map.of("PATH", bin + ":" + System.getenv("PATH"));
        Result r = run(env, DEPLOY.resolve("gpu/getGpusResources.sh").toString());
        assertEquals(0, r.code(), r.out());
        JsonNode json = Json.tree(r.out());
        assertEquals("gpu", json.get("name").asText());
        assertEquals(List.of("0", "1"), Json.read(json.get("addresses").toString(), List.class));

        script(bin.resolve("nvidia-smi"), "echo 'NVIDIA-SMI has failed' >&2; exit 9");
        Result failed = run(env, DEPLOY.resolve("gpu/getGpusResources.sh").toString());
        assertNotEquals(0, failed.code(), "no GPU is an error, not an empty list: " + failed.out());
        assertFalse(failed.out().contains("addresses"), failed.out());
    }

    @Test
    void retrainingKeepsOneDatasetSetsTheStoreAndNeverRunsTwice() throws Exception {
        Path fake = tmp.resolve("fake-submit.sh");
        Path started = tmp.resolve("started");
        script(fake, "printf '%s\\n' \"$@\"; touch " + started + "; sleep \"${HOLD:-0}\"");
        Map<String, String> env = new HashMap<>(Map.of("BUSI_ROOT", "s3a://b/busi", "BUSI_SUBMIT", fake.toString(),
                "BUSI_LOCK", tmp.resolve("lock").toString()));
        String retrain = DEPLOY.resolve("cron/retrain.sh").toString();
        Result r = run(env, retrain, "-Dbusi.train.epochs=40");
        assertEquals(0, r.code(), r.out());
        List<String> args = r.lines();
        assertEquals(List.of("run", "--input", "s3a://b/busi/archive", "--dataset", "s3a://b/busi/dataset", "--output"),
                args.subList(0, 6));
        assertTrue(args.get(6).matches("s3a://b/busi/runs/\\d{8}T\\d{6}Z"), args.get(6));
        assertEquals(List.of("-Dbusi.store.uri=s3a://b/busi", "-Dbusi.train.epochs=40"), args.subList(7, args.size()));

        // A run that is still going holds the lock: the next one is skipped, successfully.
        Files.delete(started);
        ProcessBuilder pb = new ProcessBuilder(retrain).redirectErrorStream(true).redirectOutput(tmp.resolve("first.log").toFile());
        pb.environment().putAll(env);
        pb.environment().put("HOLD", "20");
        Process first = pb.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!Files.exists(started)) {
                assertTrue(first.isAlive() && System.nanoTime() < deadline, "the first run starts");
                Thread.sleep(20);
            }
            Result second = run(env, retrain);
            assertEquals(0, second.code(), second.out());
            assertTrue(second.out().contains("skipped") && !second.out().contains("--dataset"), second.out());
        } finally {
            first.descendants().forEach(ProcessHandle::destroyForcibly);
            first.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Paths that the image, the crontab and the CronJob name under /opt/busi/deploy/ exist in this repository. */
    @Test
    void scheduledExamplesNameScriptsThatExist() throws Exception {
        assertTrue(Files.readString(DEPLOY.resolve("k8s/Dockerfile")).contains("COPY deploy/ /opt/busi/deploy/"));
        String cronJob = Files.readString(DEPLOY.resolve("k8s/cronjob.yaml"));
        assertTrue(cronJob.contains("concurrencyPolicy: Forbid"), "never two retrainings at once");
        assertFalse(cronJob.contains("\t"), "YAML is indented with spaces");
        List<String> named = new ArrayList<>();
        for (Path f : List.of(DEPLOY.resolve("k8s/cronjob.yaml"), DEPLOY.resolve("cron/busi-retrain.cron"),
                DEPLOY.resolve("k8s/submit.sh"), DEPLOY.resolve("standalone/submit.sh"))) {
            Matcher m = Pattern.compile("/opt/busi/deploy/([\\w./-]+)").matcher(Files.readString(f));
            while (m.find()) {
                named.add(m.group(1));
            }
        }
        assertTrue(named.containsAll(List.of("cron/retrain.sh", "k8s/submit.sh", "gpu/getGpusResources.sh")), named.toString());
        for (String n : named) {
            assertTrue(Files.isRegularFile(DEPLOY.resolve(n)), "deploy/" + n);
        }
        assertEquals(Collections.emptyList(), named.stream().filter(n -> !n.endsWith(".sh")).toList());
    }
}
