package org.busispark.ingest;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One field of a metadata manifest as a source declares it: a column name ({@code Pathology}), or a template
 * whose {@code {COLUMN}} placeholders take the row's values ({@code Images/{ID}.png}). A placeholder may drop a
 * prefix or a suffix of its value, as a shell does: {@code {ID#bus_}} gives {@code 0001-l} for {@code bus_0001-l},
 * {@code {NAME%.png}} drops {@code .png}. Archives export their metadata as they like; this reads it unedited.
 */
public final class ManifestField implements Serializable {
    /** A literal text, or a column's value with an optional prefix or suffix removed. */
    private record Part(String literal, String column, String prefix, String suffix) implements Serializable {}

    private final String spec;
    private final List<Part> parts;

    private ManifestField(String spec, List<Part> parts) {
        this.spec = spec;
        this.parts = parts;
    }

    /** Parses a column name or a template; a malformed template is an {@link IllegalArgumentException}. */
    public static ManifestField parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("A manifest field must name a column or be a {COLUMN} template");
        }
        if (spec.indexOf('{') < 0 && spec.indexOf('}') < 0) {
            return new ManifestField(spec, List.of(new Part(null, spec.strip(), null, null)));
        }
        List<Part> parts = new ArrayList<>();
        int i = 0;
        while (i < spec.length()) {
            int open = spec.indexOf('{', i);
            int close = spec.indexOf('}', i);
            if (open < 0) {
                if (close >= 0) {
                    throw malformed(spec, "'}' without '{'");
                }
                parts.add(new Part(spec.substring(i), null, null, null));
                break;
            }
            if (close >= 0 && close < open) {
                throw malformed(spec, "'}' without '{'");
            }
            if (open > i) {
                parts.add(new Part(spec.substring(i, open), null, null, null));
            }
            int end = spec.indexOf('}', open);
            if (end < 0) {
                throw malformed(spec, "'{' without '}'");
            }
            String inner = spec.substring(open + 1, end);
            if (inner.indexOf('{') >= 0) {
                throw malformed(spec, "nested '{'");
            }
            parts.add(placeholder(spec, inner));
            i = end + 1;
        }
        return new ManifestField(spec, List.copyOf(parts));
    }

    private static Part placeholder(String spec, String inner) {
        int hash = inner.indexOf('#');
        int percent = inner.indexOf('%');
        int cut = hash >= 0 ? hash : percent;
        String column = (cut >= 0 ? inner.substring(0, cut) : inner).strip();
        if (column.isEmpty()) {
            throw malformed(spec, "a placeholder without a column name");
        }
        return new Part(null, column, hash >= 0 ? inner.substring(hash + 1) : null,
                hash < 0 && percent >= 0 ? inner.substring(percent + 1) : null);
    }

    private static IllegalArgumentException malformed(String spec, String why) {
        return new IllegalArgumentException("Manifest template '" + spec + "' is malformed: " + why);
    }

    /** The columns this field reads, in order of first use. */
    public Set<String> columns() {
        Set<String> out = new LinkedHashSet<>();
        parts.stream().filter(p -> p.column() != null).forEach(p -> out.add(p.column()));
        return out;
    }

    /** The field's value for a row ({@code value} gives a column's value), or null when a column it reads is blank. */
    public String apply(Function<String, String> value) {
        StringBuilder out = new StringBuilder();
        for (Part p : parts) {
            if (p.literal() != null) {
                out.append(p.literal());
                continue;
            }
            String v = value.apply(p.column());
            if (v == null || v.isBlank()) {
                return null;
            }
            v = v.strip();
            if (p.prefix() != null && v.startsWith(p.prefix())) {
                v = v.substring(p.prefix().length());
            }
            if (p.suffix() != null && v.endsWith(p.suffix())) {
                v = v.substring(0, v.length() - p.suffix().length());
            }
            out.append(v);
        }
        return out.toString();
    }

    public String apply(Map<String, String> row) {
        return apply(row::get);
    }

    @Override
    public String toString() {
        return spec;
    }
}
