package org.busispark.ingest;

import org.busispark.config.BusiConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatasetPlannerTest {
    private static BusiConfig.Ingest cfg(String policy) {
        return new BusiConfig.Ingest(32, 1L << 30, 1L << 30, 8, policy, new BusiConfig.Split(0.7, 0.15, 0.15), 42, List.of());
    }

    private static DatasetPlanner.NewImage img(String id, String label) {
        return new DatasetPlanner.NewImage("/d/" + label + "/" + id + ".png", id, label, null, null);
    }

    /** 300 benign, 120 malignant, 60 normal singletons, plus chains of near-duplicates. */
    private static List<DatasetPlanner.NewImage> corpus() {
        List<DatasetPlanner.NewImage> out = new ArrayList<>();
        String[] labels = {"benign", "malignant", "normal"};
        int[] sizes = {300, 120, 60};
        for (int l = 0; l < 3; l++) {
            for (int i = 0; i < sizes[l]; i++) {
                out.add(img(labels[l] + i, labels[l]));
            }
        }
        return out;
    }

    private static List<String[]> chainEdges() {
        List<String[]> edges = new ArrayList<>();
        for (int i = 0; i < 40; i += 4) { // groups of 4 benign images: 0-1-2-3, 4-5-6-7, ...
            edges.add(new String[] {"benign" + i, "benign" + (i + 1)});
            edges.add(new String[] {"benign" + (i + 2), "benign" + (i + 1)});
            edges.add(new String[] {"benign" + (i + 3), "benign" + (i + 2)});
        }
        return edges;
    }

    @Test
    void splitIsStratifiedByLabelWithinOneImageOfTarget() {
        var plan = DatasetPlanner.plan(corpus(), List.of(), chainEdges(), cfg(DatasetPlanner.KEEP_IN_TRAIN));
        Map<String, Map<String, Long>> perLabel = corpus().stream().collect(Collectors.groupingBy(
                DatasetPlanner.NewImage::label, Collectors.groupingBy(
                        n -> plan.bySourcePath().get(n.sourcePath()).split(), Collectors.counting())));
        Map<String, Integer> sizes = Map.of("benign", 300, "malignant", 120, "normal", 60);
        double[] fractions = {0.7, 0.15, 0.15};
        String[] splits = {"train", "validation", "test"};
        for (var e : sizes.entrySet()) {
            for (int s = 0; s < 3; s++) {
                long got = perLabel.get(e.getKey()).getOrDefault(splits[s], 0L);
                // Groups of 4 move in one piece, so benign may miss its target by up to one group.
                double slack = e.getKey().equals("benign") ? 4 : 1;
                assertEquals(fractions[s] * e.getValue(), got, slack, e.getKey() + " " + splits[s]);
            }
        }
    }

    @Test
    void duplicateGroupsNeverSpanSplits() {
        var plan = DatasetPlanner.plan(corpus(), List.of(), chainEdges(), cfg(DatasetPlanner.KEEP_IN_TRAIN));
        Map<String, Set<String>> splitsPerGroup = new HashMap<>();
        plan.bySourcePath().values().forEach(a -> splitsPerGroup.computeIfAbsent(a.dupGroup(), k -> new java.util.HashSet<>())
                .add(a.split()));
        splitsPerGroup.values().forEach(s -> assertEquals(1, s.size()));
        assertEquals(10, plan.duplicateGroups().size());
        plan.duplicateGroups().forEach(g -> assertEquals(4, g.size()));
        // Group ids are the smallest member id.
        assertEquals("benign0", plan.bySourcePath().get("/d/benign/benign3.png").dupGroup());
    }

    @Test
    void planDoesNotDependOnInputOrder() {
        List<DatasetPlanner.NewImage> shuffled = new ArrayList<>(corpus());
        Collections.shuffle(shuffled, new Random(7));
        List<String[]> edges = new ArrayList<>(chainEdges());
        Collections.reverse(edges);
        var a = DatasetPlanner.plan(corpus(), List.of(), chainEdges(), cfg(DatasetPlanner.KEEP_IN_TRAIN));
        var b = DatasetPlanner.plan(shuffled, List.of(), edges, cfg(DatasetPlanner.KEEP_IN_TRAIN));
        assertEquals(a.bySourcePath(), b.bySourcePath());
    }

    @Test
    void oldImagesKeepTheirSplitAndNewDuplicatesFollowThem() {
        var first = DatasetPlanner.plan(corpus(), List.of(), chainEdges(), cfg(DatasetPlanner.KEEP_IN_TRAIN));
        List<DatasetPlanner.OldImage> old = corpus().stream().map(n -> {
            var a = first.bySourcePath().get(n.sourcePath());
            return new DatasetPlanner.OldImage(n.imageId(), n.label(), a.split(), a.dupGroup(), n.site(), n.patientId());
        }).toList();
        // A new near-duplicate of benign5 (group benign4) and 50 new unrelated malignant images.
        List<DatasetPlanner.NewImage> fresh = new ArrayList<>();
        fresh.add(img("x-dup", "benign"));
        for (int i = 0; i < 50; i++) {
            fresh.add(img("m-new" + i, "malignant"));
        }
        var second = DatasetPlanner.plan(fresh, old, List.<String[]>of(new String[] {"benign5", "x-dup"}),
                cfg(DatasetPlanner.KEEP_IN_TRAIN));
        assertEquals(51, second.bySourcePath().size(), "only new images are planned");
        var dup = second.bySourcePath().get("/d/benign/x-dup.png");
        assertEquals("benign4", dup.dupGroup());
        assertEquals(first.bySourcePath().get("/d/benign/benign5.png").split(), dup.split());
        // Malignant as a whole stays stratified: 170 images, counting the old ones.
        long newTrain = fresh.stream().skip(1).filter(n -> second.bySourcePath().get(n.sourcePath()).split()
                .equals("train")).count();
        long oldTrain = old.stream().filter(o -> o.label().equals("malignant") && o.split().equals("train")).count();
        assertEquals(0.7 * 170, oldTrain + newTrain, 1.0);
    }

    @Test
    void labelConflictsAreKeptInTrainOrDropped() {
        List<DatasetPlanner.NewImage> imgs = List.of(img("a", "benign"), img("b", "malignant"), img("c", "normal"));
        List<String[]> edges = List.<String[]>of(new String[] {"a", "b"});
        var kept = DatasetPlanner.plan(imgs, List.of(), edges, cfg(DatasetPlanner.KEEP_IN_TRAIN));
        assertEquals("train", kept.bySourcePath().get("/d/benign/a.png").split());
        assertEquals("train", kept.bySourcePath().get("/d/malignant/b.png").split());
        assertEquals(1, kept.labelConflicts().size());
        assertEquals(List.of("benign", "malignant"), kept.labelConflicts().get(0).labels());

        var dropped = DatasetPlanner.plan(imgs, List.of(), edges, cfg(DatasetPlanner.DROP));
        assertNull(dropped.bySourcePath().get("/d/benign/a.png").split());
        assertEquals(DatasetPlanner.LABEL_CONFLICT, dropped.bySourcePath().get("/d/malignant/b.png").dropReason());
        assertNull(dropped.bySourcePath().get("/d/normal/c.png").dropReason());
    }

    @Test
    void imagesOfOnePatientStayTogetherAndExactCopiesShareAGroup() {
        List<DatasetPlanner.NewImage> imgs = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            imgs.add(new DatasetPlanner.NewImage("/m/p" + i + "-a.png", "pa" + i, "benign", "m", "patient" + i));
            imgs.add(new DatasetPlanner.NewImage("/m/p" + i + "-b.png", "pb" + i, "benign", "m", "patient" + i));
        }
        imgs.add(new DatasetPlanner.NewImage("/m/copy.png", "pa0", "benign", "m", null)); // same pixels as p0-a
        var plan = DatasetPlanner.plan(imgs, List.of(), List.of(), cfg(DatasetPlanner.KEEP_IN_TRAIN));
        for (int i = 0; i < 30; i++) {
            assertEquals(plan.bySourcePath().get("/m/p" + i + "-a.png"), plan.bySourcePath().get("/m/p" + i + "-b.png"));
        }
        assertEquals(plan.bySourcePath().get("/m/p0-a.png"), plan.bySourcePath().get("/m/copy.png"));
        assertTrue(plan.duplicateGroups().stream().anyMatch(g -> g.size() == 3));
    }

    @Test
    void eachSiteIsStratifiedByItsOwnClassesAndPatientIdsAreASitesOwn() {
        // Site "big" is mostly benign; site "small" mostly malignant: stratifying by label alone would let one
        // site's images fill a label's test share.
        List<DatasetPlanner.NewImage> imgs = new ArrayList<>();
        int[][] mix = {{300, 60}, {40, 200}}; // per site: benign, malignant
        String[] sites = {"big", "small"};
        for (int s = 0; s < 2; s++) {
            for (int c = 0; c < 2; c++) {
                String label = c == 0 ? "benign" : "malignant";
                for (int i = 0; i < mix[s][c]; i++) {
                    String id = sites[s] + label + i;
                    // Patient ids repeat across sites (1, 2, ... in each archive) and must not join them.
                    imgs.add(new DatasetPlanner.NewImage("/" + id + ".png", id, label, sites[s], label + i));
                }
            }
        }
        var plan = DatasetPlanner.plan(imgs, List.of(), List.of(), cfg(DatasetPlanner.KEEP_IN_TRAIN));
        Map<String, Integer> test = new HashMap<>();
        for (DatasetPlanner.NewImage n : imgs) {
            DatasetPlanner.Assignment a = plan.bySourcePath().get(n.sourcePath());
            if (a.split().equals(Splits.TEST)) {
                test.merge(n.site() + "/" + n.label(), 1, Integer::sum);
            }
        }
        for (int s = 0; s < 2; s++) {
            for (int c = 0; c < 2; c++) {
                String key = sites[s] + "/" + (c == 0 ? "benign" : "malignant");
                double share = test.getOrDefault(key, 0) / (double) mix[s][c];
                assertEquals(0.15, share, 1.5 / mix[s][c] + 1e-9, key + " test share " + share);
            }
        }
        assertEquals(List.of(), plan.duplicateGroups(), "patient benign0 of one site is not patient benign0 of the other");
    }
}
