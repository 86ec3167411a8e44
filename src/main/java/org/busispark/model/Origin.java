package org.busispark.model;

import java.io.Serializable;

/**
 * Where an image comes from, as far as its source says: the site (archive) it belongs to, its patient within that
 * site, and the scanner. Each field is null where the source does not give it; carried from the dataset or the
 * manifest into predictions, so that metrics and scores can be read per site.
 */
public record Origin(String site, String patientId, String scanner) implements Serializable {
    public static final Origin UNKNOWN = new Origin(null, null, null);

    /** Just the site: a class-folder tree names nothing else. */
    public static Origin ofSite(String site) {
        return new Origin(site, null, null);
    }
}
