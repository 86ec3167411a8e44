package org.busispark.ingest;

/** Why an input file was quarantined or skipped; the reason is a stable code, the detail is for people. */
public final class Rejection extends Exception {
    public enum Reason {
        EMPTY_FILE("empty-file"),
        NOT_AN_IMAGE("not-an-image"),
        CORRUPT_IMAGE("corrupt-image"),
        TOO_SMALL("too-small"),
        TOO_LARGE("too-large"),
        UNKNOWN_CLASS("unknown-class"),
        MASK_WITHOUT_IMAGE("mask-without-image"),
        MASK_SIZE_MISMATCH("mask-size-mismatch"),
        UNREADABLE("unreadable"),
        MISSING_FILE("missing-file"),
        MISSING_FIELD("missing-field"),
        PATH_ESCAPES_ROOT("path-escapes-root");

        private final String code;

        Reason(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    private final Reason reason;

    public Rejection(Reason reason, String detail) {
        super(detail);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    public String detail() {
        return getMessage();
    }
}
