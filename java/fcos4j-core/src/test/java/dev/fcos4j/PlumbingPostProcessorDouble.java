package dev.fcos4j;

import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.postprocess.PostProcessConfig;
import dev.fcos4j.postprocess.PostProcessor;
import dev.fcos4j.preprocess.ImageMeta;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * TEST DOUBLE, only for DetectorPlumbingTest: records what the Detector hands to post-processing and answers one
 * fake detection per image spanning the original image (class = image index in the batch, score = the largest
 * cls_0 logit of that image squashed, so results depend on the network output). Never a substitute for the real
 * post-processing, which DetectorEndToEndTest exercises.
 */
class PlumbingPostProcessorDouble implements PostProcessor {
    final PostProcessConfig config;
    final List<String> classNames;
    final List<List<ImageMeta>> seenMetas = Collections.synchronizedList(new ArrayList<>());
    final List<int[]> seenShapes = Collections.synchronizedList(new ArrayList<>());
    final AtomicBoolean closed = new AtomicBoolean();

    PlumbingPostProcessorDouble(PostProcessConfig config, List<String> classNames) {
        this.config = config;
        this.classNames = classNames;
    }

    @Override
    public List<List<Detection>> process(HeadTensors heads, List<ImageMeta> metas) {
        seenMetas.add(List.copyOf(metas));
        seenShapes.add(new int[] {heads.batch(), heads.numClasses(), heads.level(0).height(), heads.level(0).width()});
        List<List<Detection>> out = new ArrayList<>();
        int perImage = heads.numClasses() * heads.level(0).points();
        for (int i = 0; i < metas.size(); i++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int k = 0; k < perImage; k++) {
                max = Math.max(max, heads.cls(0).get(i * perImage + k));
            }
            float score = (float) (1.0 / (1.0 + Math.exp(-max)));
            ImageMeta m = metas.get(i);
            int cls = i % heads.numClasses();
            out.add(List.of(new Detection(0, 0, m.originalWidth(), m.originalHeight(), score, cls,
                    classNames.get(cls))));
        }
        return out;
    }

    @Override
    public PostProcessConfig config() {
        return config;
    }

    @Override
    public void close() {
        closed.set(true);
    }
}
