package dev.fcos4j.tensorrt;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;

/** Seeded synthetic images (gradient plus random rectangles and ovals). */
final class TestImages {
    private TestImages() {
    }

    static BufferedImage synthetic(int width, int height, long seed) {
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

    static Path png(Path dir, String name, BufferedImage img) {
        Path p = dir.resolve(name);
        try {
            ImageIO.write(img, "png", p.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }
}
