package org.busispark.config;

/** A configuration problem a user can fix: the message names the key and what was expected. */
public final class BusiConfigException extends RuntimeException {
    public BusiConfigException(String message) {
        super(message);
    }

    public BusiConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
