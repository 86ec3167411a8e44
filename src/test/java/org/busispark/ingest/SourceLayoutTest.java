package org.busispark.ingest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.busispark.ingest.SourceLayout.Kind.*;
import static org.junit.jupiter.api.Assertions.*;

class SourceLayoutTest {
    private static final List<String> CLASSES = List.of("benign", "malignant", "normal");
    private static final String DIR = "file:/data/busi/benign/";

    private static SourceLayout.Entry classify(String path) {
        return SourceLayout.classify(path, CLASSES);
    }

    @Test
    void imageInClassFolderFromHadoopPath() {
        SourceLayout.Entry e = classify(DIR + "benign (12).png");
        assertEquals(IMAGE, e.kind());
        assertEquals("benign", e.label());
        assertEquals("file:/data/busi/benign/benign (12)", e.groupKey());
    }

    @ParameterizedTest
    @ValueSource(strings = {"benign (12)_mask.png", "benign (12)_mask_1.png", "benign (12)_Mask_12.PNG"})
    void masksShareTheirImagesGroup(String name) {
        SourceLayout.Entry mask = classify(DIR + name);
        assertEquals(MASK, mask.kind());
        assertEquals("benign", mask.label());
        assertEquals(classify(DIR + "benign (12).png").groupKey(), mask.groupKey());
    }

    @Test
    void differentImagesHaveDifferentGroups() {
        assertNotEquals(classify(DIR + "benign (12).png").groupKey(), classify(DIR + "benign (1).png").groupKey());
        assertNotEquals(classify(DIR + "a.png").groupKey(),
                classify("file:/data/busi/malignant/a.png").groupKey());
    }

    @ParameterizedTest
    @ValueSource(strings = {".DS_Store", "Thumbs.db", "desktop.ini", "._benign (1).png", "notes.txt", "README"})
    void nonImagesAreSkipped(String name) {
        SourceLayout.Entry e = classify(DIR + name);
        assertEquals(SKIPPED, e.kind());
        assertNotNull(e.note());
    }

    @Test
    void imageOutsideClassFolderHasNoLabel() {
        SourceLayout.Entry e = classify("file:/data/busi/other/x.png");
        assertEquals(IMAGE, e.kind());
        assertNull(e.label());
    }

    @ParameterizedTest
    @ValueSource(strings = {"IMG.PNG", "scan.JPG", "scan.jpeg", "scan.Tiff", "scan.tif", "scan.bmp", "scan.gif"})
    void imageExtensionsAreCaseInsensitive(String name) {
        SourceLayout.Entry e = classify("file:/data/busi/malignant/" + name);
        assertEquals(IMAGE, e.kind());
        assertEquals("malignant", e.label());
    }

    @Test
    void plusSignInNameIsKeptLiterally() {
        assertEquals("file:/data/busi/normal/a+b", classify("file:/data/busi/normal/a+b.png").groupKey());
    }
}
