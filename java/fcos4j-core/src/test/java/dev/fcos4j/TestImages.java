package dev.fcos4j;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Seeded synthetic test images: a gradient background with a few filled rectangles and ellipses. */
public final class TestImages {
    private TestImages() {
    }

    public static BufferedImage synthetic(int width, int height, long seed) {
        Random r = new Random(seed);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = img.createGraphics();
        for (int y = 0; y < height; y++) {
            g.setColor(new Color((y * 255) / height, 90, 255 - (y * 255) / height));
            g.drawLine(0, y, width, y);
        }
        for (int i = 0; i < 6; i++) {
            g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256)));
            int w = 10 + r.nextInt(Math.max(1, width / 2));
            int h = 10 + r.nextInt(Math.max(1, height / 2));
            int x = r.nextInt(Math.max(1, width - w));
            int y = r.nextInt(Math.max(1, height - h));
            if (i % 2 == 0) {
                g.fillRect(x, y, w, h);
            } else {
                g.fillOval(x, y, w, h);
            }
        }
        g.dispose();
        return img;
    }

    public static byte[] png(BufferedImage img) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path pngFile(Path dir, String name, BufferedImage img) {
        try {
            Path p = dir.resolve(name);
            Files.write(p, png(img));
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
