package org.nd4j.nativeblas;

import java.lang.reflect.Method;

/**
 * Repairs DL4J 1.0.0-M2's oneDNN check. Its layer helpers ask {@code org.nd4j.nativeblas.Nd4jCpu$Environment
 * .isUseMKLDNN()} whether oneDNN is in use, but ND4J M2 ships that class as
 * {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment} with {@code isUseONEDNN()}. Without this
 * class the lookup fails, DL4J silently drops every oneDNN helper and falls back to its much slower built-in
 * convolution. This answers the old question with the new method (reflection: the CUDA build has no CPU
 * bindings, and there the answer is false).
 */
public final class Nd4jCpu {
    private Nd4jCpu() {}

    public static final class Environment {
        private static final Environment INSTANCE = new Environment();
        private static final String BINDINGS = "org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment";

        private Environment() {}

        public static Environment getInstance() {
            return INSTANCE;
        }

        public boolean isUseMKLDNN() {
            try {
                Class<?> env = Class.forName(BINDINGS);
                Object instance = env.getMethod("getInstance").invoke(null);
                Method useOneDnn = env.getMethod("isUseONEDNN");
                return (boolean) useOneDnn.invoke(instance);
            } catch (ReflectiveOperationException | LinkageError e) {
                return false;
            }
        }
    }
}
