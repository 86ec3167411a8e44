package org.busispark.ingest;

import org.busispark.config.BusiConfig;
import org.busispark.config.BusiConfigException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IngestSourcesTest {
    private static final BusiConfig.Manifest BUS_BRA = new BusiConfig.Manifest("Images/{ID}.png", "Pathology", "Case",
            "Device", "Masks/mask_{ID#bus_}.png");
    private static final List<BusiConfig.Source> CONFIGURED = List.of(
            new BusiConfig.Source("BUSI", "data/sample/busi", null),
            new BusiConfig.Source("BUS-BRA", "data/sample/bus-bra/bus_data.csv", BUS_BRA));

    @Test
    void namedInputsReplaceTheConfiguredSourcesAndKeepTheirMapping() {
        List<BusiConfig.Source> s = IngestSources.resolve(List.of("BUS-BRA=/archive/bra/bus_data.csv"), CONFIGURED);
        assertEquals(List.of(new BusiConfig.Source("BUS-BRA", "/archive/bra/bus_data.csv", BUS_BRA)), s);
    }

    @Test
    void withoutInputsTheConfiguredSourcesAreUsed() {
        assertSame(CONFIGURED, IngestSources.resolve(List.of(), CONFIGURED));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IngestSources.resolve(List.of(), List.of()));
        assertTrue(e.getMessage().contains("--input"), e.getMessage());
    }

    @Test
    void aBareUriIsNamedAfterItsFolder() {
        assertEquals("busi", IngestSources.resolve(List.of("data/sample/busi/"), List.of()).get(0).site());
        assertEquals("bus-bra", IngestSources.siteOf("s3a://bucket/archives/bus-bra/bus_data.csv"));
        assertEquals("Dataset_BUSI_with_GT", IngestSources.siteOf("hdfs://nn:8020/x/Dataset_BUSI_with_GT"));
        assertEquals("my-archive-2024", IngestSources.siteOf("/x/my archive (2024)"));
        assertNull(IngestSources.named("/x/y", null).manifest());
    }

    @Test
    void aUriHoldingAnEqualsSignIsNotSplit() {
        BusiConfig.Source s = IngestSources.resolve(List.of("s3a://bucket/date=2026-01/scans"), List.of()).get(0);
        assertEquals("s3a://bucket/date=2026-01/scans", s.uri());
        assertEquals("scans", s.site());
        assertEquals("A", IngestSources.resolve(List.of("A=s3a://bucket/date=2026-01/scans"), List.of()).get(0).site());
    }

    @Test
    void twoInputsOfOneSiteOrABadNameAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IngestSources.resolve(List.of("/a/busi", "/b/busi"), List.of()));
        assertTrue(e.getMessage().contains("'busi'"), e.getMessage());
        assertThrows(BusiConfigException.class, () -> IngestSources.named("/a", "-bad"));
    }
}
