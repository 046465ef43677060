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
 * own process. {@code load}: prints the outcome of loading it; {@code compare}: cuda kernels vs the reference on
 * every fixture and on R-50 head shapes. An optional second argument names the flavour (default cuda):
 * {@code native/scripts/gpu-stage.sh probe} runs this class on a GPU machine without Maven, and with
 * {@code emulated} on any machine, as a dry run of that stage.
 */
public final class CudaProbe {
    private CudaProbe() {
    }

    public static void main(String[] args) throws Exception {
        Flavour flavour = args.length > 1 ? Flavour.parse(args[1]) : Flavour.CUDA;
        try {
            NativeLibrary.load(flavour);
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
        List<Path> fixtures = EmulatedFixturesTest.fixtureFiles();
        if (fixtures.size() < 10) {
            throw new IllegalStateException("expected the post-processing fixtures under " + NativeTestSupport.root()
                    + "/engines (set -Dfcos4j.root), found " + fixtures.size());
        }
        for (Path file : fixtures) {
            PostprocessFixture f = PostprocessFixture.read(file);
            HeadTensors h = f.heads();
            try (ReferencePostProcessor ref = new ReferencePostProcessor(f.config(), List.of());
                 NativePostProcessor nat = NativePostProcessor.create(flavour, f.config(), List.of(), HeadShape.of(h))) {
                NativeTestSupport.assertSameDetections(file.toString(), ref.process(h, f.images()), nat.process(h, f.images()));
            }
        }
        HeadShape r50 = HeadShape.fpn(2, 80, 800, 1344, 8, 16, 32, 64, 128);
        for (Convention c : Convention.values()) {
            for (String mode : new String[] {"few", "dense"}) {
                PostProcessConfig cfg = PostProcessConfig.defaults(c);
                HeadTensors h = NativePostProcessorTest.heads(r50, 2, mode, 7, true);
                try (ReferencePostProcessor ref = new ReferencePostProcessor(cfg, List.of());
                     NativePostProcessor nat = NativePostProcessor.create(flavour, cfg, List.of(), r50)) {
                    List<List<Detection>> e = ref.process(h, NativePostProcessorTest.metas(2));
                    NativeTestSupport.assertSameDetections("R-50 " + c + " " + mode, e, nat.process(h, NativePostProcessorTest.metas(2)));
                }
            }
        }
        System.out.println("RESULT compared: " + flavour.id() + " flavour from " + NativeLibrary.loadedFrom()
                + " equals the Java reference on " + fixtures.size() + " fixtures and 6 R-50-shape cases");
    }
}
