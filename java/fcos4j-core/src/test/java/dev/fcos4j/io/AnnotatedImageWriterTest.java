package dev.fcos4j.io;

import dev.fcos4j.Detection;
import dev.fcos4j.ImageDecodeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AnnotatedImageWriterTest {
    @TempDir
    Path tmp;

    private static int rgb(int[] c) {
        return (c[0] << 16) | (c[1] << 8) | c[2];
    }

    @Test
    void drawsBoxesInClassColourAndLeavesTheRestAlone() throws IOException {
        BufferedImage grey = new BufferedImage(300, 200, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 200; y++) {
            for (int x = 0; x < 300; x++) {
                grey.setRGB(x, y, 0x808080);
            }
        }
        Path in = tmp.resolve("in.png");
        ImageIO.write(grey, "png", in.toFile());
        Path out = tmp.resolve("out.png");
        List<Detection> dets = List.of(new Detection(50f, 60f, 150f, 160f, 0.87f, 3, "motorcycle"),
                new Detection(200f, 100f, 280f, 190f, 0.4f, 4, "airplane"),
                new Detection(Float.NaN, 0f, 1f, 1f, 0.9f, 5, "bus"));
        new AnnotatedImageWriter().write(in, dets, out);

        byte[] bytes = Files.readAllBytes(out);
        assertEquals((byte) 0x89, bytes[0]);
        assertEquals('P', bytes[1]);
        BufferedImage result = ImageIO.read(out.toFile());
        assertEquals(300, result.getWidth());
        assertEquals(200, result.getHeight());
        // Left edge of box 1 mid-height, bottom edge of box 2: class colours.
        assertEquals(rgb(AnnotatedImageWriter.colorOf(3)), result.getRGB(50, 110) & 0xFFFFFF);
        assertEquals(rgb(AnnotatedImageWriter.colorOf(4)), result.getRGB(240, 190) & 0xFFFFFF);
        // Inside the boxes and far from them: untouched.
        assertEquals(0x808080, result.getRGB(100, 120) & 0xFFFFFF);
        assertEquals(0x808080, result.getRGB(10, 190) & 0xFFFFFF);
        // The tag above box 1 holds the class colour and ink.
        Set<Integer> tagColours = new HashSet<>();
        for (int y = 40; y < 60; y++) {
            for (int x = 50; x < 120; x++) {
                tagColours.add(result.getRGB(x, y) & 0xFFFFFF);
            }
        }
        assertTrue(tagColours.contains(rgb(AnnotatedImageWriter.colorOf(3))), "tag background");
        assertTrue(tagColours.size() > 2, "tag has text");
    }

    @Test
    void coloursDifferBetweenClassesAndLabelsReadAsExpected() {
        Set<Integer> colours = new HashSet<>();
        for (int c = 0; c < 80; c++) {
            int[] rgb = AnnotatedImageWriter.colorOf(c);
            for (int v : rgb) {
                assertTrue(v >= 0 && v <= 255);
            }
            colours.add(rgb(rgb));
        }
        assertEquals(80, colours.size(), "80 classes get 80 distinct colours");
        assertNotEquals(rgb(AnnotatedImageWriter.colorOf(0)), rgb(AnnotatedImageWriter.colorOf(1)));
        assertEquals("person 0.87", AnnotatedImageWriter.label(new Detection(0, 0, 1, 1, 0.8749f, 0, "person")));
    }

    @Test
    void boxesOutsideTheImageAreClippedNotFatal() throws IOException {
        BufferedImage img = new BufferedImage(20, 10, BufferedImage.TYPE_BYTE_GRAY);
        Path in = tmp.resolve("gray.png");
        ImageIO.write(img, "png", in.toFile());
        Path out = tmp.resolve("clipped.png");
        new AnnotatedImageWriter().write(in, List.of(new Detection(-50f, -50f, 1e9f, 1e9f, 1f, 0, "x"),
                new Detection(5f, 5f, 5f, 5f, 0.5f, 2, "degenerate")), out);
        BufferedImage result = ImageIO.read(out.toFile());
        assertEquals(20, result.getWidth());
        assertEquals(10, result.getHeight());
    }

    @Test
    void drawingFreesItsNativeObjects() throws IOException {
        Path in = tmp.resolve("leak.png");
        ImageIO.write(new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB), "png", in.toFile());
        Path out = tmp.resolve("leak-out.png");
        List<Detection> dets = List.of(new Detection(1, 2, 30, 40, 0.5f, 1, "a"), new Detection(5, 5, 60, 45, 0.9f, 2, "b"));
        AnnotatedImageWriter w = new AnnotatedImageWriter();
        w.write(in, dets, out);
        long before = org.bytedeco.javacpp.Pointer.totalCount();
        for (int i = 0; i < 20; i++) {
            w.write(in, dets, out);
        }
        assertTrue(org.bytedeco.javacpp.Pointer.totalCount() <= before, "native objects left behind");
    }

    @Test
    void errorsNameTheFiles() throws IOException {
        AnnotatedImageWriter w = new AnnotatedImageWriter();
        Path missing = tmp.resolve("missing.jpg");
        ImageDecodeException e = assertThrows(ImageDecodeException.class,
                () -> w.write(missing, List.of(), tmp.resolve("o.png")));
        assertTrue(e.getMessage().contains(missing.toString()));
        Path in = tmp.resolve("in.png");
        ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), "png", in.toFile());
        Path unwritable = tmp.resolve("no-such-dir").resolve("o.png");
        DataFileException d = assertThrows(DataFileException.class, () -> w.write(in, List.of(), unwritable));
        assertTrue(d.getMessage().contains(unwritable.toString()), d.getMessage());
    }
}
