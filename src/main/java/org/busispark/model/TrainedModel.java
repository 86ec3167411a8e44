package org.busispark.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** A network with its card, and the ModelSerializer zip that travels to executors. */
public record TrainedModel(ComputationGraph graph, ModelCard card) {

    public byte[] toZip(boolean withUpdater) {
        return toZip(graph, withUpdater);
    }

    public static byte[] toZip(ComputationGraph graph, boolean withUpdater) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ModelSerializer.writeModel(graph, out, withUpdater);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    public static ComputationGraph fromZip(byte[] zip, boolean withUpdater) {
        try {
            return ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(zip), withUpdater);
        } catch (IOException | RuntimeException e) {
            throw new ModelLoadException("model.zip is not a readable DL4J ComputationGraph: " + e.getMessage(), e);
        }
    }
}
