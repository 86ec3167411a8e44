package org.busispark.ingest;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.busispark.config.BusiConfig;
import org.busispark.model.ImageInput;
import org.busispark.model.Origin;
import org.busispark.storage.Storage;

import java.io.Serializable;
import java.util.List;

/**
 * Where evaluate and score get images from: an ingested Parquet dataset (one split or all of it) or any
 * folder tree, which goes through the same decoding and normalisation as ingest.
 */
public final class ImageSources {
    private ImageSources() {}

    /** Which source paths to read; the others are dropped before their bytes are read. */
    @FunctionalInterface
    public interface PathFilter extends Serializable {
        PathFilter ALL = path -> true;

        boolean keep(String sourcePath);
    }

    /** True when {@code uri} holds an ingested dataset rather than raw image files. */
    public static boolean isIngestedDataset(Storage storage, String uri) {
        return storage.exists(Storage.child(uri, ImageTable.IMAGES_DIR));
    }

    /**
     * Rows of an ingested dataset; {@code split} null means every split. Ingest runs written before a column
     * existed (site, scanner) read it as null.
     */
    public static Dataset<Row> ingested(SparkSession spark, String uri, String split) {
        Dataset<Row> rows = spark.read().option("mergeSchema", "true").parquet(Storage.child(uri, ImageTable.IMAGES_DIR));
        for (String column : List.of(ImageTable.SITE, ImageTable.SCANNER)) {
            if (!List.of(rows.columns()).contains(column)) {
                rows = rows.withColumn(column, functions.lit(null).cast("string"));
            }
        }
        return split == null ? rows : rows.where(functions.col(ImageTable.SPLIT).equalTo(split));
    }

    /**
     * What training sees of a dataset's {@code split} (null: all): every site but {@code heldOutSite}
     * (leave-one-site-out; null keeps every site).
     */
    public static Dataset<Row> forTraining(SparkSession spark, String uri, String split, String heldOutSite) {
        Dataset<Row> rows = ingested(spark, uri, split);
        return heldOutSite == null ? rows
                : rows.where(functions.not(functions.col(ImageTable.SITE).eqNullSafe(heldOutSite)));
    }

    /** Fails with the dataset's sites when {@code site} is not one of them (a typo would hold nothing out). */
    public static void requireSite(SparkSession spark, String uri, String site) {
        List<String> sites = sites(ingested(spark, uri, null));
        if (!sites.contains(site)) {
            throw new IllegalArgumentException("Site '" + site + "' is not in the dataset at " + uri + "; its sites are "
                    + sites);
        }
    }

    /** The site names in {@code rows}, sorted (a handful per dataset). */
    public static List<String> sites(Dataset<Row> rows) {
        return rows.select(ImageTable.SITE).distinct().collectAsList().stream()
                .map(r -> r.isNullAt(0) ? "" : r.getString(0)).sorted().toList();
    }

    public static JavaRDD<ImageInput> fromIngested(Dataset<Row> rows) {
        return fromIngested(rows, PathFilter.ALL);
    }

    public static JavaRDD<ImageInput> fromIngested(Dataset<Row> rows, PathFilter keep) {
        return rows.select(ImageTable.SOURCE_PATH, ImageTable.IMAGE_ID, ImageTable.LABEL_INDEX, ImageTable.IMAGE,
                        ImageTable.SITE, ImageTable.PATIENT_ID, ImageTable.SCANNER)
                .javaRDD()
                .filter(r -> keep.keep(r.getString(0)))
                .map(r -> new ImageInput(r.getString(0), r.getString(1), r.isNullAt(2) ? null : r.getInt(2),
                        ImageCodec.decodePng((byte[]) r.get(3)), null, null,
                        new Origin(r.getString(4), r.getString(5), r.getString(6))));
    }

    /**
     * Every file under a folder tree. With {@code requireLabel}, images outside a class folder become error
     * rows (evaluation needs the truth); without it the class folder is optional (scoring).
     */
    public static JavaRDD<ImageInput> fromFolder(SparkSession spark, String uri, String site, BusiConfig config,
                                                 boolean requireLabel) {
        return fromFolder(spark, uri, site, config, requireLabel, PathFilter.ALL);
    }

    /** @param site the site every image is tagged with, or null (scoring an archive of no particular site) */
    public static JavaRDD<ImageInput> fromFolder(SparkSession spark, String uri, String site, BusiConfig config,
                                                 boolean requireLabel, PathFilter keep) {
        List<String> classes = config.model().classes();
        return IngestJob.forPrediction(spark, uri, site, config, requireLabel, keep).map(o -> switch (o.status()) {
            case ACCEPTED -> new ImageInput(o.sourcePath(), o.imageId(),
                    o.label() == null ? null : classes.indexOf(o.label()), o.image(), null, null, o.origin());
            case QUARANTINED -> new ImageInput(o.sourcePath(), null,
                    o.label() == null ? null : classes.indexOf(o.label()), null,
                    o.reason() + (o.detail() == null ? "" : ": " + o.detail()), null, o.origin());
            case SKIPPED -> new ImageInput(o.sourcePath(), null, null, null, null, o.reason(), o.origin());
        });
    }
}
