package dev.fcos4j.nativ;

import dev.fcos4j.Detection;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.io.PostprocessFixture;
import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.postprocess.PostProcessConfig;
import dev.fcos4j.postprocess.ReferencePostProcessor;

import java.nio.file.Path;
import java.util.List;

/**
 * Child-JVM entry of {@link CudaFlavourTest}: one JVM holds one flavour, so the cuda flavour is exercised in its
 * own process. {@code load}: prints the outcome of loading it; {@code compare}: cuda kernels vs the reference.
 */
public final class CudaProbe {
    private CudaProbe() {
    }

    public static void main(String[] args) throws Exception {
        try {
            NativeLibrary.load(Flavour.CUDA);
        } catch (NoCudaDeviceException e) {
            System.out.println("RESULT NoCudaDeviceException " + e.getMessage());
            return;
        } catch (dev.fcos4j.NativeLibraryException e) {
            System.out.println("RESULT NativeLibraryException " + e.getMessage());
            return;
        }
        if (args[0].equals("load")) {
            System.out.println("RESULT loaded");
            return;
        }
        for (Path file : EmulatedFixturesTest.fixtureFiles()) {
            PostprocessFixture f = PostprocessFixture.read(file);
            HeadTensors h = f.heads();
            try (ReferencePostProcessor ref = new ReferencePostProcessor(f.config(), List.of());
                 NativePostProcessor nat = NativePostProcessor.create(Flavour.CUDA, f.config(), List.of(), HeadShape.of(h))) {
                NativeTestSupport.assertSameDetections(file.toString(), ref.process(h, f.images()), nat.process(h, f.images()));
            }
        }
        HeadShape r50 = HeadShape.fpn(2, 80, 800, 1344, 8, 16, 32, 64, 128);
        for (Convention c : Convention.values()) {
            for (String mode : new String[] {"few", "dense"}) {
                PostProcessConfig cfg = PostProcessConfig.defaults(c);
                HeadTensors h = NativePostProcessorTest.heads(r50, 2, mode, 7, true);
                try (ReferencePostProcessor ref = new ReferencePostProcessor(cfg, List.of());
                     NativePostProcessor nat = NativePostProcessor.create(Flavour.CUDA, cfg, List.of(), r50)) {
                    List<List<Detection>> e = ref.process(h, NativePostProcessorTest.metas(2));
                    NativeTestSupport.assertSameDetections("R-50 " + c + " " + mode, e, nat.process(h, NativePostProcessorTest.metas(2)));
                }
            }
        }
        System.out.println("RESULT compared");
    }
}
