package org.busispark.model;

/** A model that cannot be used: missing, corrupt, or not matching its card or the configuration. */
public final class ModelLoadException extends RuntimeException {
    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
