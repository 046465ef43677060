package dev.fcos4j;

/** An option, convention name, threshold or command-line value is invalid; the message names it and the accepted values. */
public class ConfigurationException extends Fcos4jException {
    private static final long serialVersionUID = 1L;

    public ConfigurationException(String message) {
        super(message);
    }

    public ConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }
}
