package org.busispark.ingest;

import org.busispark.config.BusiConfig;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Decides, for every newly accepted image, its duplicate group and its split — the part of ingest that keeps
 * test images out of training. Pure logic over metadata only; the Spark job finds the near-duplicate edges
 * and applies the plan.
 *
 * <ul>
 *   <li>Groups: images are joined by exact content (same id), by near-duplicate edges (perceptual hashes within
 *       the configured distance) and by a shared patient id within a site, with union-find: no patient and no
 *       duplicate group spans two splits.</li>
 *   <li>Groups already in the dataset keep their id and split: new images never move old ones, and a new image
 *       that joins an old group follows it.</li>
 *   <li>New groups are split stratified by site and label: in an order fixed by hash(seed, group), each goes to
 *       the split furthest below its target share for its (site, label), counting what the dataset already
 *       holds, so that every site's test split has its share of every class it has.</li>
 *   <li>A group holding several labels is a label conflict, kept whole in train or dropped, as configured.</li>
 * </ul>
 */
public final class DatasetPlanner {
    /** A newly accepted image. */
    public record NewImage(String sourcePath, String imageId, String label, String site, String patientId)
            implements java.io.Serializable {}

    /** An image already in the dataset. */
    public record OldImage(String imageId, String label, String split, String dupGroup, String site, String patientId)
            implements java.io.Serializable {}

    /** Where a new image goes; {@code split} is null when the image is dropped (see {@code dropReason}). */
    public record Assignment(String dupGroup, String split, String dropReason) implements java.io.Serializable {}

    /** A duplicate group as reported: its members' labels and paths (new images) and what was done. */
    public record Group(String id, int size, List<String> labels, List<String> newMembers, String split,
                        String action) {}

    public record Plan(Map<String, Assignment> bySourcePath, List<Group> duplicateGroups,
                       List<Group> labelConflicts) {}

    public static final String LABEL_CONFLICT = "label-conflict";
    public static final String KEEP_IN_TRAIN = "keep-in-train";
    public static final String DROP = "drop";

    private DatasetPlanner() {}

    /**
     * @param edges pairs of image ids found to be near-duplicates (either order; ids may be old or new)
     */
    public static Plan plan(List<NewImage> fresh, List<OldImage> old, List<String[]> edges, BusiConfig.Ingest cfg) {
        UnionFind uf = new UnionFind();
        fresh.forEach(n -> uf.add(n.imageId()));
        old.forEach(o -> uf.add(o.imageId()));
        edges.forEach(e -> uf.union(e[0], e[1]));
        Map<String, String> patientAnchor = new HashMap<>();
        for (NewImage n : fresh) {
            linkPatient(uf, patientAnchor, n.site(), n.patientId(), n.imageId());
        }
        for (OldImage o : old) {
            linkPatient(uf, patientAnchor, o.site(), o.patientId(), o.imageId());
        }

        // Components, each with its old and new members.
        Map<String, Component> components = new TreeMap<>();
        for (OldImage o : old) {
            components.computeIfAbsent(uf.find(o.imageId()), k -> new Component()).old.add(o);
        }
        for (NewImage n : fresh) {
            components.computeIfAbsent(uf.find(n.imageId()), k -> new Component()).fresh.add(n);
        }

        BusiConfig.Split fractions = cfg.split();
        Map<String, double[]> counts = new TreeMap<>(); // (site, label) → images per split (train, validation, test)
        for (OldImage o : old) {
            counts.computeIfAbsent(stratum(o.site(), o.label()), k -> new double[3])[splitIndex(o.split())]++;
        }

        Map<String, Assignment> out = new LinkedHashMap<>();
        List<Group> groups = new ArrayList<>();
        List<Group> conflicts = new ArrayList<>();
        List<Component> toStratify = new ArrayList<>();
        for (Component c : components.values()) {
            if (c.fresh.isEmpty()) {
                continue;
            }
            c.id = c.old.stream().map(OldImage::dupGroup).min(Comparator.naturalOrder())
                    .orElse(c.fresh.stream().map(NewImage::imageId).min(Comparator.naturalOrder()).orElseThrow());
            TreeSet<String> labels = c.labels();
            String oldSplit = c.old.stream().map(OldImage::split).min(Comparator.comparing(DatasetPlanner::splitIndex))
                    .orElse(null);
            String action;
            if (labels.size() > 1 && cfg.labelConflicts().equals(DROP)) {
                c.split = null;
                action = "dropped";
            } else if (oldSplit != null) {
                c.split = oldSplit;
                long oldSplits = c.old.stream().map(OldImage::split).distinct().count();
                // A new image that links groups already in different splits cannot undo that; say so.
                action = oldSplits > 1 ? "joined existing groups that span " + oldSplits + " splits" : "joined existing group";
            } else if (labels.size() > 1) {
                c.split = Splits.TRAIN;
                action = "kept in train";
            } else {
                toStratify.add(c);
                action = null;
            }
            c.action = action;
        }
        toStratify.sort(Comparator.comparingDouble((Component c) -> Splits.unitHash(cfg.seed(), c.id))
                .thenComparing(c -> c.id));
        for (Component c : toStratify) {
            double[] n = counts.computeIfAbsent(c.stratum(), k -> new double[3]);
            int size = c.fresh.size();
            double total = n[0] + n[1] + n[2] + size;
            double[] target = {fractions.train(), fractions.validation(), fractions.test()};
            int best = 0;
            double bestDeficit = Double.NEGATIVE_INFINITY;
            for (int s = 0; s < 3; s++) {
                double deficit = target[s] * total - n[s];
                if (target[s] > 0 && deficit > bestDeficit + 1e-9) {
                    best = s;
                    bestDeficit = deficit;
                }
            }
            n[best] += size;
            c.split = SPLITS[best];
        }
        for (Component c : components.values()) {
            if (c.fresh.isEmpty()) {
                continue;
            }
            String drop = c.split == null ? LABEL_CONFLICT : null;
            for (NewImage n : c.fresh) {
                out.put(n.sourcePath(), new Assignment(c.id, c.split, drop));
            }
            int size = c.fresh.size() + c.old.size();
            if (size > 1) {
                Group g = new Group(c.id, size, List.copyOf(c.labels()),
                        c.fresh.stream().map(NewImage::sourcePath).sorted().toList(), c.split,
                        c.action == null ? "split as a unit" : c.action);
                groups.add(g);
                if (c.labels().size() > 1) {
                    conflicts.add(g);
                }
            }
        }
        groups.sort(Comparator.comparingInt(Group::size).reversed().thenComparing(Group::id));
        return new Plan(out, groups, conflicts);
    }

    private static final String[] SPLITS = {Splits.TRAIN, Splits.VALIDATION, Splits.TEST};

    private static int splitIndex(String split) {
        return switch (split) {
            case Splits.TRAIN -> 0;
            case Splits.VALIDATION -> 1;
            case Splits.TEST -> 2;
            default -> throw new IllegalArgumentException("Unknown split " + split);
        };
    }

    /** Patient ids are a site's own: patient 1 of one archive is not patient 1 of another. */
    private static void linkPatient(UnionFind uf, Map<String, String> anchor, String site, String patientId,
                                    String imageId) {
        if (patientId != null && !patientId.isBlank()) {
            uf.union(anchor.computeIfAbsent(stratum(site, patientId.strip()), k -> imageId), imageId);
        }
    }

    /** The key of a (site, value) pair; images without a site form one site of their own. */
    private static String stratum(String site, String value) {
        return (site == null ? "" : site) + '\u0000' + value;
    }

    private static final class Component {
        final List<OldImage> old = new ArrayList<>();
        final List<NewImage> fresh = new ArrayList<>();
        String id;
        String split;
        String action;

        /** The (site, label) a single-label group is counted under: its members' first site. */
        String stratum() {
            TreeSet<String> sites = new TreeSet<>();
            old.forEach(o -> sites.add(o.site() == null ? "" : o.site()));
            fresh.forEach(n -> sites.add(n.site() == null ? "" : n.site()));
            return DatasetPlanner.stratum(sites.first(), labels().first());
        }

        TreeSet<String> labels() {
            TreeSet<String> labels = new TreeSet<>();
            old.forEach(o -> labels.add(o.label()));
            fresh.forEach(n -> labels.add(n.label()));
            return labels;
        }
    }

    /** Union-find with path halving; the smaller id becomes the root, so results do not depend on order. */
    static final class UnionFind {
        private final Map<String, String> parent = new HashMap<>();

        void add(String x) {
            parent.putIfAbsent(x, x);
        }

        String find(String x) {
            add(x);
            String p;
            while (!(p = parent.get(x)).equals(x)) {
                String gp = parent.get(p);
                parent.put(x, gp);
                x = gp;
            }
            return x;
        }

        void union(String a, String b) {
            String ra = find(a), rb = find(b);
            if (!ra.equals(rb)) {
                if (ra.compareTo(rb) < 0) {
                    parent.put(rb, ra);
                } else {
                    parent.put(ra, rb);
                }
            }
        }
    }
}
