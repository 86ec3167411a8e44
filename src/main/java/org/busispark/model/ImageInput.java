package org.busispark.model;

import org.busispark.ingest.DecodedImage;

import java.io.Serializable;

/**
 * One listed file to run through the model, from an ingested dataset or a folder. Exactly one of
 * {@code image} (decoded), {@code error} (could not be used: reason and detail) and {@code skipReason}
 * (not an image input, e.g. a hidden file or a mask) is set; {@code origin} is never null.
 */
public record ImageInput(String sourcePath, String imageId, Integer labelIndex, DecodedImage image, String error,
                         String skipReason, Origin origin) implements Serializable {
    public boolean skipped() {
        return skipReason != null;
    }
}
