package org.busispark.ingest;

import org.apache.hadoop.fs.Path;
import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.storage.Storage;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Which archives an ingest reads, each as a site: from {@code --input} arguments ({@code NAME=URI}, or a bare URI
 * whose folder names its site) or from {@code busi.ingest.sources}.
 */
public final class IngestSources {
    /** NAME=URI, where NAME is a site name (no '/', ':' or '='), so that a URI holding '=' is not split. */
    private static final Pattern NAMED = Pattern.compile("([A-Za-z0-9][A-Za-z0-9._-]*)=(.+)");

    private IngestSources() {}

    /**
     * The sources to ingest: the command line's inputs when there are any (each taking the manifest mapping of the
     * configured source of its name), else the configured ones.
     */
    public static List<BusiConfig.Source> resolve(List<String> inputs, List<BusiConfig.Source> configured) {
        if (inputs == null || inputs.isEmpty()) {
            if (configured.isEmpty()) {
                throw new IllegalArgumentException("No input: pass --input URI (or NAME=URI, repeatable) or list the "
                        + "archives in busi.ingest.sources");
            }
            return configured;
        }
        Map<String, BusiConfig.Source> out = new LinkedHashMap<>();
        for (String input : inputs) {
            Matcher m = NAMED.matcher(input);
            BusiConfig.Source s = m.matches() ? named(m.group(2), m.group(1)) : named(input, null);
            s = new BusiConfig.Source(s.site(), s.uri(), mapping(s.site(), configured));
            if (out.put(s.site(), s) != null) {
                throw new IllegalArgumentException("Two inputs are named site '" + s.site() + "': name them apart "
                        + "with --input NAME=URI");
            }
        }
        return new ArrayList<>(out.values());
    }

    /** The manifest mapping of the configured source named {@code site}, or null (none, or no such source). */
    public static BusiConfig.Manifest mapping(String site, List<BusiConfig.Source> configured) {
        return configured.stream().filter(s -> s.site().equals(site)).map(BusiConfig.Source::manifest)
                .filter(java.util.Objects::nonNull).findFirst().orElse(null);
    }

    /** A source without a mapping; {@code site} null names it after the input's folder (a manifest's folder). */
    public static BusiConfig.Source named(String uri, String site) {
        return new BusiConfig.Source(site == null ? siteOf(uri) : ConfigLoader.checkSiteName("Site name", site),
                uri, null);
    }

    /** A site name from a folder's (or a manifest's folder's) name: characters a site name cannot hold become '-'. */
    public static String siteOf(String uri) {
        Path p = new Path(uri.endsWith("/") ? uri.substring(0, uri.length() - 1) : uri);
        if (ManifestSource.isManifest(uri) && p.getParent() != null) {
            p = p.getParent();
        }
        String name = p.getName().replaceAll("[^A-Za-z0-9._-]+", "-").replaceAll("^[._-]+|-+$", "");
        return name.isEmpty() ? "site" : name;
    }

    /** For progress and reports: "site=uri" per source. */
    static String describe(List<BusiConfig.Source> sources) {
        return sources.stream().map(s -> sources.size() == 1 && s.site().equals(siteOf(s.uri()))
                ? Storage.normalize(s.uri()) : s.site() + "=" + Storage.normalize(s.uri()))
                .collect(Collectors.joining(", "));
    }
}
