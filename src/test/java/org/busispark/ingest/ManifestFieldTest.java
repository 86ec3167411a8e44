package org.busispark.ingest;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManifestFieldTest {
    private static final Map<String, String> BUS_BRA_ROW = Map.of("ID", "bus_0001-l", "Case", "1",
            "Pathology", "malignant", "Device", "GE Logiq 7 @10-14MHz");

    @Test
    void aPlainNameIsAColumn() {
        ManifestField f = ManifestField.parse("Pathology");
        assertEquals(Set.of("Pathology"), f.columns());
        assertEquals("malignant", f.apply(BUS_BRA_ROW));
    }

    @Test
    void templatesBuildBusBraPaths() {
        assertEquals("Images/bus_0001-l.png", ManifestField.parse("Images/{ID}.png").apply(BUS_BRA_ROW));
        assertEquals("Masks/mask_0001-l.png", ManifestField.parse("Masks/mask_{ID#bus_}.png").apply(BUS_BRA_ROW));
        assertEquals("bus_0001", ManifestField.parse("{ID%-l}").apply(BUS_BRA_ROW));
        assertEquals("1/bus_0001-l", ManifestField.parse("{Case}/{ID}").apply(BUS_BRA_ROW));
        assertEquals(List.of("Case", "ID"), List.copyOf(ManifestField.parse("{Case}/{ID}/{Case}").columns()));
    }

    @Test
    void aPrefixOrSuffixThatIsNotThereIsKept() {
        assertEquals("x-bus_0001-l", ManifestField.parse("x-{ID#img_}").apply(BUS_BRA_ROW));
        assertEquals("bus_0001-l", ManifestField.parse("{ID%.png}").apply(BUS_BRA_ROW));
    }

    @Test
    void aBlankValueGivesNoField() {
        Map<String, String> row = new HashMap<>(BUS_BRA_ROW);
        row.put("ID", "  ");
        assertNull(ManifestField.parse("Images/{ID}.png").apply(row));
        row.remove("ID");
        assertNull(ManifestField.parse("ID").apply(row));
        assertEquals("bus_0001-l", ManifestField.parse("ID").apply(Map.of("ID", " bus_0001-l ")), "values are stripped");
    }

    @Test
    void malformedTemplatesAreRejectedWithTheTemplate() {
        for (String bad : List.of("Images/{ID.png", "Images/ID}.png", "{}", "{#bus_}", "a{b{c}}", " ")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ManifestField.parse(bad));
            assertTrue(e.getMessage().contains("template") || e.getMessage().contains("column"), e.getMessage());
        }
    }
}
